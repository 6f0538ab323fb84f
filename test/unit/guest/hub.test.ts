import t, { type Test } from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import { Hub } from '../../../harness/guest/net/hub.ts';
import { clusterMac } from '../../../harness/base/guest-contract.ts';

interface FakeNode {
  id: number;
  socket: Socket;
  port: number;
  got: Buffer[];
}

function mac(s: string): Buffer {
  return Buffer.from(s.replace(/:/g, ''), 'hex');
}

const BROADCAST = 'ff:ff:ff:ff:ff:ff';

function frame(to: string, from: number, payload: string): Buffer {
  return Buffer.concat([mac(to), mac(clusterMac(from)), Buffer.from([0x88, 0xb5]), Buffer.from(payload)]);
}

function payload(f: Buffer): string {
  return f.subarray(14).toString();
}

async function setup(t: Test, seed = 7): Promise<{ hub: Hub; nodes: FakeNode[] }> {
  const hub = await Hub.start({ seed });
  const nodes: FakeNode[] = [];
  for (const id of [1, 2, 3]) {
    const socket = createSocket('udp4');
    const port = await new Promise<number>((r) => socket.bind(0, '127.0.0.1', () => r(socket.address().port)));
    const node: FakeNode = { id, socket, port, got: [] };
    socket.on('message', (m) => node.got.push(m));
    hub.addNode(id, port);
    nodes.push(node);
  }
  t.teardown(async () => {
    for (const n of nodes) n.socket.close();
    await hub.close();
  });
  return { hub, nodes };
}

function send(hub: Hub, n: FakeNode, f: Buffer): void {
  n.socket.send(f, hub.port, '127.0.0.1');
}

/** Waits until cond holds, or fails after ms. */
async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const settle = () => new Promise((r) => setTimeout(r, 100));

/** Every node announces itself by broadcast so the hub learns its MAC. */
async function learn(hub: Hub, nodes: FakeNode[]): Promise<void> {
  await settle();
  for (const n of nodes) n.got.length = 0;
  for (const n of nodes) send(hub, n, frame(BROADCAST, n.id, `hello${n.id}`));
  await until(() => nodes.every((n) => n.got.length === 2));
  for (const n of nodes) n.got.length = 0;
}

t.test('broadcast floods, learned unicast goes to its owner only', async (t) => {
  const { hub, nodes } = await setup(t);
  const [a, b, c] = nodes as [FakeNode, FakeNode, FakeNode];
  send(hub, a, frame(BROADCAST, 1, 'bcast'));
  await until(() => b.got.length === 1 && c.got.length === 1);
  t.equal(payload(b.got[0]!), 'bcast');
  t.equal(a.got.length, 0, 'no echo to the sender');
  await learn(hub, nodes);
  send(hub, a, frame(clusterMac(3), 1, 'to3'));
  await until(() => c.got.length === 1);
  await settle();
  t.equal(b.got.length, 0);
  t.equal(payload(c.got[0]!), 'to3');
  const counters = hub.counters();
  t.equal(counters.links['1->3']!.forwarded, 3);
  t.equal(counters.links['1->2']!.forwarded, 2);
});

t.test('partition drops across the cut both ways; heal restores', async (t) => {
  const { hub, nodes } = await setup(t);
  const [a, b, c] = nodes as [FakeNode, FakeNode, FakeNode];
  await learn(hub, nodes);
  hub.partition([[1], [2, 3]]);
  send(hub, a, frame(clusterMac(2), 1, 'x'));
  send(hub, b, frame(clusterMac(1), 2, 'y'));
  send(hub, b, frame(clusterMac(3), 2, 'inside'));
  await until(() => c.got.length === 1);
  await settle();
  t.equal(a.got.length, 0);
  t.equal(b.got.length, 0);
  const cut = hub.counters().links;
  t.equal(cut['1->2']!.droppedPartition, 1);
  t.equal(cut['2->1']!.droppedPartition, 1);
  t.equal(cut['2->3']!.droppedPartition, 0);

  hub.heal();
  send(hub, a, frame(clusterMac(2), 1, 'again'));
  await until(() => b.got.length === 1);
  t.equal(payload(b.got[0]!), 'again');
});

t.test('isolate cuts one node off from all the others', async (t) => {
  const { hub, nodes } = await setup(t);
  const [, b, c] = nodes as [FakeNode, FakeNode, FakeNode];
  await learn(hub, nodes);
  hub.isolate(3);
  send(hub, c, frame(BROADCAST, 3, 'lonely'));
  send(hub, b, frame(clusterMac(3), 2, 'to3'));
  await settle();
  t.equal(nodes.reduce((s, n) => s + n.got.length, 0), 0);
  const links = hub.counters().links;
  t.equal(links['3->1']!.droppedPartition + links['3->2']!.droppedPartition + links['2->3']!.droppedPartition, 3);
});

t.test('loss 100% drops everything on that link only; loss is reproducible', async (t) => {
  const { hub, nodes } = await setup(t);
  const [a, b, c] = nodes as [FakeNode, FakeNode, FakeNode];
  hub.setLink(1, 2, { lossPercent: 100 });
  for (let i = 0; i < 10; i++) send(hub, a, frame(BROADCAST, 1, `f${i}`));
  await until(() => c.got.length === 10);
  await settle();
  t.equal(b.got.length, 0);
  t.same(hub.counters().links['1->2'], { forwarded: 0, droppedPartition: 0, droppedLoss: 10 });

  const pattern = async (seed: number): Promise<string> => {
    hub.heal();
    await learn(hub, nodes);
    hub.reseed(seed);
    hub.setLink(1, 3, { lossPercent: 50 });
    c.got.length = 0;
    for (let i = 0; i < 40; i++) send(hub, a, frame(clusterMac(3), 1, `p${i}`));
    await settle();
    await settle();
    return c.got.map(payload).join(',');
  };
  const first = await pattern(42);
  const second = await pattern(42);
  t.equal(first, second, 'same seed, same drops');
  t.ok(first.split(',').length > 5 && first.split(',').length < 35, 'about half dropped');
});

t.test('delay delays', async (t) => {
  const { hub, nodes } = await setup(t);
  const [a, b, c] = nodes as [FakeNode, FakeNode, FakeNode];
  hub.setLink(1, 2, { delayMs: 300 });
  const start = Date.now();
  let tb = -1;
  let tc = -1;
  b.socket.once('message', () => (tb = Date.now() - start));
  c.socket.once('message', () => (tc = Date.now() - start));
  send(hub, a, frame(BROADCAST, 1, 'slow'));
  await until(() => tb >= 0 && tc >= 0);
  t.ok(tb >= 290, `delayed link took ${tb} ms`);
  t.ok(tc < 200, `plain link took ${tc} ms`);
});

t.test('frames from strangers and runts are counted, not forwarded', async (t) => {
  const { hub, nodes } = await setup(t);
  const stranger = createSocket('udp4');
  await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => stranger.close());
  stranger.send(frame(BROADCAST, 9, 'who'), hub.port, '127.0.0.1');
  send(hub, nodes[0]!, Buffer.from('tiny'));
  await until(() => hub.counters().unknownSource === 1 && hub.counters().malformed === 1);
  t.equal(nodes.reduce((s, n) => s + n.got.length, 0), 0);
  t.same(JSON.parse(JSON.stringify(hub.counters())), hub.counters());
});

t.test('fault arguments are checked', async (t) => {
  const { hub } = await setup(t);
  t.throws(() => hub.partition([[1, 2], [2, 3]]), /two partition groups/);
  t.throws(() => hub.isolate(9), /no node 9/);
  t.throws(() => hub.setLink(1, 2, { lossPercent: 101 }), /0\.\.100/);
  t.throws(() => hub.setLink(1, 1, { delayMs: 5 }), /two different nodes/);
});

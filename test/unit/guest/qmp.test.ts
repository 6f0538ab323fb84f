import t, { type Test } from 'tap';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Qmp } from '../../../harness/guest/vm/qmp.ts';
import { tempDir } from '../../temp-dir.ts';

/** A fake QEMU monitor: greets, then answers each command through reply(). */
function fakeQemu(
  t: Test,
  reply: (cmd: { execute: string; id?: string; arguments?: unknown }, sock: Socket) => void,
): Promise<{ path: string; seen: string[] }> {
  const dir = tempDir(t, 'qmp-test-');
  const path = join(dir, 'qmp.sock');
  const seen: string[] = [];
  const server: Server = createServer((sock) => {
    sock.write('{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": []}}\r\n');
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const cmd = JSON.parse(buf.slice(0, nl)) as { execute: string; id?: string };
        buf = buf.slice(nl + 1);
        seen.push(cmd.execute);
        reply(cmd, sock);
      }
    });
  });
  t.teardown(() => server.close());
  return new Promise((resolve) => server.listen(path, () => resolve({ path, seen })));
}

const ok = (cmd: { id?: string }, sock: Socket, ret: unknown = {}) => sock.write(`${JSON.stringify({ return: ret, id: cmd.id })}\n`);

t.test('negotiates capabilities and matches replies by id past events', async (t) => {
  let running = true;
  const { path, seen } = await fakeQemu(t, (cmd, sock) => {
    if (cmd.execute === 'stop') {
      running = false;
      sock.write('{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}\n');
    }
    if (cmd.execute === 'cont') running = true;
    ok(cmd, sock, cmd.execute === 'query-status' ? { running, status: running ? 'running' : 'paused' } : {});
  });
  const qmp = await Qmp.connect(path, { label: 'node1' });
  t.teardown(() => qmp.close());
  await qmp.stop();
  t.same(await qmp.queryStatus(), { running: false, status: 'paused' });
  await qmp.cont();
  t.equal((await qmp.queryStatus()).status, 'running');
  await qmp.systemReset();
  t.same(seen, ['qmp_capabilities', 'stop', 'query-status', 'cont', 'query-status', 'system_reset']);
  t.same(qmp.events.map((e) => e.event), ['STOP']);
});

t.test('QMP errors name the node and the error class', async (t) => {
  const { path } = await fakeQemu(t, (cmd, sock) => {
    if (cmd.execute === 'qmp_capabilities') ok(cmd, sock);
    else sock.write(`${JSON.stringify({ error: { class: 'CommandNotFound', desc: 'The command nope has not been found' }, id: cmd.id })}\n`);
  });
  const qmp = await Qmp.connect(path, { label: 'node2' });
  t.teardown(() => qmp.close());
  await t.rejects(qmp.execute('nope'), /node2: QMP error CommandNotFound: The command nope has not been found/);
});

t.test('a command without a reply runs into its deadline', async (t) => {
  const { path } = await fakeQemu(t, (cmd, sock) => {
    if (cmd.execute === 'qmp_capabilities') ok(cmd, sock);
  });
  const qmp = await Qmp.connect(path, { label: 'node3' });
  t.teardown(() => qmp.close());
  await t.rejects(qmp.queryStatus(200), /timed out after 0.2s waiting for node3: reply to QMP query-status; last seen: no reply/);
});

t.test('quit succeeds when QEMU closes the socket instead of replying', async (t) => {
  const { path } = await fakeQemu(t, (cmd, sock) => {
    if (cmd.execute === 'qmp_capabilities') ok(cmd, sock);
    else sock.destroy();
  });
  const qmp = await Qmp.connect(path, { label: 'node1' });
  await qmp.quit(1000);
  t.ok(qmp.closed);
  await t.rejects(qmp.stop(), /connection closed/);
});

t.test('no socket: a clear error', async (t) => {
  await t.rejects(Qmp.connect('/nonexistent/qmp.sock', { label: 'node9', deadlineMs: 500 }), /node9: cannot connect to QMP socket/);
});

/**
 * The cluster's private L2 segment and its network fault injector, in the harness
 * process. Every node's QEMU sends Ethernet frames as UDP datagrams from its own
 * port on 127.0.0.1 to the hub; the hub learns which node owns which MAC, forwards
 * unicast to its owner and floods the rest, and applies the faults on each
 * directed link (from -> to) on the way.
 */
import { createSocket, type Socket } from 'node:dgram';
import { InfraError, InputError } from '../../base/errors.ts';
import { seededRandom } from '../../base/random.ts';

export interface LinkFault {
  /** Percentage of frames dropped, 0..100, drawn from the hub's seeded RNG. */
  lossPercent: number;
  /** Added one-way delay. */
  delayMs: number;
}

export interface LinkCounters {
  forwarded: number;
  /** Dropped because the link crosses a partition. */
  droppedPartition: number;
  /** Dropped by the link's loss percentage. */
  droppedLoss: number;
}

export interface HubCounters {
  /** Keyed "from->to". */
  links: Record<string, LinkCounters>;
  /** Datagrams from a port that is no node's: counted, never forwarded. */
  unknownSource: number;
  /** Runt datagrams, shorter than an Ethernet header. */
  malformed: number;
  /** Socket errors while sending, e.g. to a node whose QEMU is gone. */
  sendErrors: number;
}

const ETH_HEADER = 14;

function macKey(frame: Buffer, offset: number): string {
  return frame.subarray(offset, offset + 6).toString('hex');
}

export class Hub {
  private readonly portToNode = new Map<number, number>();
  private readonly nodeToPort = new Map<number, number>();
  private readonly macToNode = new Map<string, number>();
  private sortedNodes: number[] = [];
  /** node -> partition component; undefined when the network is whole. */
  private component: Map<number, number> | undefined;
  private readonly faults = new Map<string, LinkFault>();
  private readonly stats = new Map<string, LinkCounters>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private unknownSource = 0;
  private malformed = 0;
  private sendErrors = 0;
  private random: () => number;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
    readonly seed: number,
  ) {
    this.random = seededRandom(seed);
    socket.on('message', (msg, rinfo) => this.onFrame(msg, rinfo.port));
    socket.on('error', () => this.sendErrors++);
  }

  /** Binds 127.0.0.1:port (0 = any free port). */
  static async start(opts: { port?: number; seed?: number } = {}): Promise<Hub> {
    const socket = createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      socket.once('error', (err) => reject(new InfraError(`hub: cannot bind UDP 127.0.0.1:${opts.port ?? 0}: ${err.message}`)));
      socket.bind(opts.port ?? 0, '127.0.0.1', () => resolve(socket.address().port));
    });
    return new Hub(socket, port, opts.seed ?? 1);
  }

  /** Tells the hub that frames from 127.0.0.1:port are node's, and where to send node's frames. */
  addNode(node: number, port: number): void {
    const owner = this.portToNode.get(port);
    if (owner !== undefined && owner !== node) throw new InputError(`hub: port ${port} already belongs to node ${owner}`);
    this.portToNode.set(port, node);
    this.nodeToPort.set(node, port);
    this.sortedNodes = [...this.nodeToPort.keys()].sort((a, b) => a - b);
  }

  get nodes(): number[] {
    return [...this.sortedNodes];
  }

  private checkNode(node: number): void {
    if (!this.nodeToPort.has(node)) throw new InputError(`hub: no node ${node} (nodes: ${this.nodes.join(', ')})`);
  }

  /**
   * Cuts the network into components that cannot reach each other. A node listed
   * nowhere ends up alone, so `partition([[1, 2]])` of three nodes isolates 3.
   */
  partition(groups: readonly (readonly number[])[]): void {
    const component = new Map<number, number>();
    groups.forEach((group, i) => {
      for (const node of group) {
        this.checkNode(node);
        if (component.has(node)) throw new InputError(`hub: node ${node} is in two partition groups`);
        component.set(node, i);
      }
    });
    let next = groups.length;
    for (const node of this.nodes) if (!component.has(node)) component.set(node, next++);
    this.component = component;
  }

  isolate(node: number): void {
    this.checkNode(node);
    this.partition([[node], this.nodes.filter((n) => n !== node)]);
  }

  /** Undoes every fault: partitions, loss and delay. Frames already delayed still arrive. */
  heal(): void {
    this.component = undefined;
    this.faults.clear();
  }

  /** Sets loss and delay on the directed link from -> to; omitted fields keep their value. */
  setLink(from: number, to: number, fault: Partial<LinkFault>): void {
    this.checkNode(from);
    this.checkNode(to);
    if (from === to) throw new InputError(`hub: a link needs two different nodes, got ${from} -> ${to}`);
    const current = this.faults.get(`${from}->${to}`) ?? { lossPercent: 0, delayMs: 0 };
    const next = { ...current, ...fault };
    if (!(next.lossPercent >= 0 && next.lossPercent <= 100)) throw new InputError(`hub: loss must be 0..100 %, got ${next.lossPercent}`);
    if (!(next.delayMs >= 0)) throw new InputError(`hub: delay must be >= 0 ms, got ${next.delayMs}`);
    this.faults.set(`${from}->${to}`, next);
  }

  /** Same fault on both directions between a and b. */
  setLinkBoth(a: number, b: number, fault: Partial<LinkFault>): void {
    this.setLink(a, b, fault);
    this.setLink(b, a, fault);
  }

  /** Restarts the loss RNG, so a fault schedule replays the same drops. */
  reseed(seed: number): void {
    this.random = seededRandom(seed);
  }

  counters(): HubCounters {
    const links: Record<string, LinkCounters> = {};
    for (const [k, v] of [...this.stats].sort(([a], [b]) => a.localeCompare(b))) links[k] = { ...v };
    return { links, unknownSource: this.unknownSource, malformed: this.malformed, sendErrors: this.sendErrors };
  }

  private counter(link: string): LinkCounters {
    let c = this.stats.get(link);
    if (!c) {
      c = { forwarded: 0, droppedPartition: 0, droppedLoss: 0 };
      this.stats.set(link, c);
    }
    return c;
  }

  private onFrame(frame: Buffer, srcPort: number): void {
    const from = this.portToNode.get(srcPort);
    if (from === undefined) {
      this.unknownSource++;
      return;
    }
    if (frame.length < ETH_HEADER) {
      this.malformed++;
      return;
    }
    this.macToNode.set(macKey(frame, 6), from);
    // Group bit set (broadcast, multicast) or not learned yet: flood, as a switch does.
    const owner = (frame[0]! & 1) === 0 ? this.macToNode.get(macKey(frame, 0)) : undefined;
    const targets = owner !== undefined ? (owner === from ? [] : [owner]) : this.sortedNodes.filter((n) => n !== from);
    for (const to of targets) this.deliver(frame, from, to);
  }

  private deliver(frame: Buffer, from: number, to: number): void {
    const link = `${from}->${to}`;
    const c = this.counter(link);
    if (this.component && this.component.get(from) !== this.component.get(to)) {
      c.droppedPartition++;
      return;
    }
    const fault = this.faults.get(link);
    if (fault && fault.lossPercent > 0 && this.random() * 100 < fault.lossPercent) {
      c.droppedLoss++;
      return;
    }
    c.forwarded++;
    const port = this.nodeToPort.get(to)!;
    if (fault && fault.delayMs > 0) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.send(frame, port);
      }, fault.delayMs);
      this.timers.add(timer);
    } else {
      this.send(frame, port);
    }
  }

  private send(frame: Buffer, port: number): void {
    if (this.closed) return;
    // A frame to a node whose QEMU is gone is lost, as on a wire; the error is only counted.
    this.socket.send(frame, port, '127.0.0.1', (err) => {
      if (err) this.sendErrors++;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

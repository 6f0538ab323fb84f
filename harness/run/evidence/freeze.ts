/** Freezing the cluster to read its disks, the turns that keep freezes and faults apart, and guest time across freezes. */
import { hostNowNs } from '../../guest/cluster/clock.ts';
import { liveNodes, type CaseContext } from '../context/case-context.ts';

/**
 * Freezes and faults take turns: a freeze thaws every node it stopped, so a fault that pauses or crashes
 * a node while a freeze is on would be undone or raced by the thaw.
 */
export async function inTurn<T>(ctx: CaseContext, body: () => Promise<T>): Promise<T> {
  const previous = ctx.turn;
  let release!: () => void;
  ctx.turn = new Promise<void>((r) => (release = r));
  try {
    await previous;
    return await body();
  } finally {
    release();
  }
}

/**
 * Runs body with every live guest stopped (QMP stop), so no I/O is in flight and the disk files hold what
 * the guests wrote (QEMU opens them with O_DIRECT). Always thaws, whatever body does, and records how long
 * the guests stood still. The caller must hold its turn (inTurn).
 */
export async function frozenNow<T>(ctx: CaseContext, body: () => Promise<T>): Promise<T> {
  const nodes = liveNodes(ctx);
  const from = Date.now();
  try {
    await Promise.all(nodes.map((n) => n.qmp.stop()));
    return await body();
  } finally {
    await Promise.allSettled(nodes.map((n) => n.qmp.cont()));
    ctx.freezes.push({ from, to: Date.now() });
  }
}

/**
 * Node n's guest clock now, from the host's clock and its last measured offset, less the time it stood
 * still in freezes since that measurement: asking the guest would cost a round trip, and a frozen guest
 * cannot answer. Undefined when its clock was never read.
 */
export function guestNowNs(ctx: Pick<CaseContext, 'cluster' | 'freezes'>, node: number, hostNs = hostNowNs()): number | undefined {
  const last = ctx.cluster.clocks.filter((r) => r.node === node).at(-1);
  if (!last) return undefined;
  const frozenMs = ctx.freezes.filter((f) => f.from >= last.at).reduce((a, f) => a + (f.to - f.from), 0);
  return hostNs + last.offsetNs - frozenMs * 1e6;
}

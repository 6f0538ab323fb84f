/** Freezing the cluster to read its disks, and the turns that keep freezes and faults apart. */
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
 * Runs body with every live guest stopped (QMP stop), so no I/O is in flight and the disk files
 * hold what the guests wrote (QEMU opens them with O_DIRECT). Always thaws, whatever body does.
 */
export function frozen<T>(ctx: CaseContext, body: () => Promise<T>): Promise<T> {
  return inTurn(ctx, () => frozenNow(ctx, body));
}

/** frozen() for a caller that already has its turn. */
export async function frozenNow<T>(ctx: CaseContext, body: () => Promise<T>): Promise<T> {
  const nodes = liveNodes(ctx);
  try {
    await Promise.all(nodes.map((n) => n.qmp.stop()));
    return await body();
  } finally {
    await Promise.allSettled(nodes.map((n) => n.qmp.cont()));
  }
}

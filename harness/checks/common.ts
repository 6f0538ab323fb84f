/** What the cluster-level checks share: a quiescent, in-sync cluster and a frozen one to read disks from. */
import { InfraError } from '../errors.ts';
import { waitMirrors } from '../mirror/ops.ts';
import { inSync } from '../oracle/dm-status.ts';
import type { MirrorLayout } from '../mirror/table.ts';
import { liveNodes, type CaseContext } from '../runner/context.ts';

export const SYNC_DEADLINE_MS = 300_000;
/** Once a step has hung, the cluster is unlikely to settle: each check waits this long, not the full deadline. */
export const SYNC_AFTER_HANG_MS = 30_000;

/** Every live node reports every mirror in sync. */
export async function waitInSync(ctx: CaseContext): Promise<void> {
  const deadlineMs = ctx.hangs.length ? SYNC_AFTER_HANG_MS : SYNC_DEADLINE_MS;
  await waitMirrors(liveNodes(ctx), ctx.mirrors, 'every live node to report every mirror in sync (SYNCED == REGIONS)', inSync, deadlineMs);
}

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

export function diskFile(ctx: CaseContext, serial: string): string {
  const d = ctx.cluster.disks.find((x) => x.serial === serial);
  if (!d) throw new InfraError(`no shared disk "${serial}" in the cluster`);
  return d.file;
}

export function legInputs(ctx: CaseContext, m: MirrorLayout) {
  return m.legs.map((l) => ({ source: { path: diskFile(ctx, l.serial) }, label: `${m.name}/leg${l.serial.replace(/^.*leg/, '')}` }));
}

/** The block size the workloads wrote with; findings are located in these blocks. 512 when none or mixed. */
export function blockBytes(ctx: CaseContext): number {
  const sizes = [...new Set(ctx.workloads.map((w) => w.workload.blockSize))];
  return sizes.length === 1 ? sizes[0]! : 512;
}

/** What the cluster-level checks share: a quiescent, in-sync cluster and a frozen one to read disks from. */
import { InfraError } from '../errors.ts';
import { waitMirrors } from '../mirror/ops.ts';
import { inSync } from '../mirror/status.ts';
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
 * Runs body with every live guest stopped (QMP stop), so no I/O is in flight and the disk files
 * hold what the guests wrote (QEMU opens them with O_DIRECT). Always thaws, whatever body does.
 */
export async function frozen<T>(ctx: CaseContext, body: () => Promise<T>): Promise<T> {
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

/** no-lost-writes: once every live node reports the mirror in sync, every leg must hold what the writers' logs say. */
import { checkNoLostWrites } from '../oracle/checks/no-lost-writes.ts';
import type { Verdict } from '../oracle/verdict.ts';
import type { CaseContext } from '../runner/context.ts';
import { readWriterEvents } from '../workload/run.ts';
import { frozen, legInputs, waitInSync } from './common.ts';

/** Guests take their clocks from the same host; this covers the drift of TCG guests between them. */
const CLOCK_SKEW_NS = 50_000_000;

export async function noLostWrites(ctx: CaseContext): Promise<Verdict> {
  const invariant = 'no-lost-writes';
  const events = readWriterEvents(ctx.dir).filter((e) => e.op !== 'read');
  if (events.length === 0) return { valid: true, invariant, detail: 'no writes were made', findings: [] };
  const mirrors = [...new Set(ctx.workloads.map((w) => w.workload.mirror))];
  const sizes = [...new Set(ctx.workloads.map((w) => w.workload.blockSize))];
  if (mirrors.length !== 1 || sizes.length !== 1) {
    return { valid: 'unknown', invariant, detail: `workloads span mirrors ${mirrors.join(',')} and block sizes ${sizes.join(',')}: not supported in this version`, findings: [] };
  }
  // Legs are only comparable with the logs once no region is left for resync.
  await waitInSync(ctx);
  const m = ctx.mirrors[mirrors[0]!]!;
  return frozen(ctx, () =>
    checkNoLostWrites({
      events,
      images: legInputs(ctx, m),
      blockBytes: sizes[0]!,
      runId: ctx.runId,
      regionBytes: ctx.case.topology.regionSize,
      clockSkewNs: CLOCK_SKEW_NS,
    }),
  );
}

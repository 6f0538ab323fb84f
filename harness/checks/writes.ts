/** no-lost-writes, no-stale-reads and dirty-before-write: the writers' and readers' logs against the disks. */
import { readFile } from 'node:fs/promises';
import { clockSkewNs, GUEST_CLOCKS_EVENT } from '../cluster/clock.ts';
import { checkDirtyBeforeWrite, inFlightAt } from '../oracle/checks/dirty-before-write.ts';
import { checkNoLostWrites } from '../oracle/checks/no-lost-writes.ts';
import { checkNoStaleReads } from '../oracle/checks/no-stale-reads.ts';
import type { Verdict } from '../oracle/verdict.ts';
import type { ReadEvent, WriteEvent } from '../oracle/writer-log.ts';
import { liveNodes, type CaseContext } from '../runner/context.ts';
import { readWriterEvents } from '../workload/run.ts';
import { frozen, legInputs, waitInSync } from './common.ts';

/**
 * How far apart the guests' clocks may be, from every reading since boot and a fresh one of each live
 * node (drift since boot). The readings go into history.jsonl, where `clogtest check` finds them.
 */
async function guestClockSkew(ctx: CaseContext): Promise<number> {
  await ctx.cluster.readClocks(liveNodes(ctx), `before ${ctx.cluster.clocks.length}`);
  const skew = clockSkewNs(ctx.cluster.clocks);
  ctx.history.append('info', { what: GUEST_CLOCKS_EVENT, skewNs: skew, readings: ctx.cluster.clocks });
  return skew;
}

/** The one mirror and block size the workloads used, or why the checks cannot tell. */
function workloadShape(ctx: CaseContext): { mirror: number; blockBytes: number } | string {
  const mirrors = [...new Set(ctx.workloads.map((w) => w.workload.mirror))];
  const sizes = [...new Set(ctx.workloads.map((w) => w.workload.blockSize))];
  if (mirrors.length !== 1 || sizes.length !== 1) return `workloads span mirrors ${mirrors.join(',')} and block sizes ${sizes.join(',')}: not supported in this version`;
  return { mirror: mirrors[0]!, blockBytes: sizes[0]! };
}

export async function noLostWrites(ctx: CaseContext): Promise<Verdict> {
  const invariant = 'no-lost-writes';
  const events = readWriterEvents(ctx.dir).filter((e) => e.op !== 'read');
  if (events.length === 0) return { valid: true, invariant, detail: 'no writes were made', findings: [] };
  const shape = workloadShape(ctx);
  if (typeof shape === 'string') return { valid: 'unknown', invariant, detail: shape, findings: [] };
  // Legs are only comparable with the logs once no region is left for resync.
  await waitInSync(ctx);
  const m = ctx.mirrors[shape.mirror]!;
  const clockSkew = await guestClockSkew(ctx);
  return frozen(ctx, () =>
    checkNoLostWrites({
      events,
      images: legInputs(ctx, m),
      blockBytes: shape.blockBytes,
      runId: ctx.runId,
      regionBytes: ctx.case.topology.regionSize,
      clockSkewNs: clockSkew,
    }),
  );
}

export async function noStaleReads(ctx: CaseContext): Promise<Verdict> {
  const invariant = 'no-stale-reads';
  const events = readWriterEvents(ctx.dir);
  const reads = events.filter((e): e is ReadEvent => e.op === 'read');
  if (reads.length === 0) return { valid: true, invariant, detail: 'no reads were made (no workload with readers)', findings: [] };
  return checkNoStaleReads({
    writes: events.filter((e): e is WriteEvent => e.op !== 'read'),
    reads,
    clockSkewNs: await guestClockSkew(ctx),
    runId: ctx.runId,
    regionBytes: ctx.case.topology.regionSize,
  });
}

export async function dirtyBeforeWrite(ctx: CaseContext): Promise<Verdict> {
  const invariant = 'dirty-before-write';
  if (ctx.workloads.length === 0) return { valid: true, invariant, detail: 'no workload ran', findings: [] };
  const shape = workloadShape(ctx);
  if (typeof shape === 'string') return { valid: 'unknown', invariant, detail: shape, findings: [] };
  if (!ctx.mirrors[shape.mirror]!.log) return { valid: 'unknown', invariant, detail: 'clustered-core: no log device to sample', findings: [] };
  const taken = ctx.observed.samples.filter((s) => s.mirror === shape.mirror);
  if (taken.length === 0) return { valid: 'unknown', invariant, detail: 'no frozen sample was taken while the workloads ran', findings: [] };
  const events = readWriterEvents(ctx.dir);
  const m = ctx.mirrors[shape.mirror]!;
  const samples = await Promise.all(
    taken.map(async (s) => {
      const freezeNs = new Map(Object.entries(s.freezeNs).map(([n, t]) => [Number(n), t]));
      // A node that was not live at the freeze has nothing in flight there: its guest is gone or stopped.
      const mine = events.filter((e) => freezeNs.has(e.node));
      return {
        sample: s.sample,
        log: await readFile(s.logFile),
        inFlight: inFlightAt(mine, freezeNs, ctx.runId),
        legs: s.legFiles.map((l) => ({ source: { path: l.file }, label: l.label })),
      };
    }),
  );
  return checkDirtyBeforeWrite({
    samples,
    regionBytes: ctx.case.topology.regionSize,
    blockBytes: shape.blockBytes,
    mirrorBytes: m.sectors * 512,
    runId: ctx.runId,
  });
}

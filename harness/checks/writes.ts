/** no-lost-writes, no-stale-reads and dirty-before-write: the writers' and readers' logs against the disks, per mirror. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkDirtyBeforeWrite, inFlightAt } from '../oracle/checks/dirty-before-write.ts';
import { checkNoLostWrites } from '../oracle/checks/no-lost-writes.ts';
import { checkNoStaleReads } from '../oracle/checks/no-stale-reads.ts';
import { mergeVerdicts, notApplicable, type Verdict } from '../oracle/verdict.ts';
import type { ReadEvent, WriteEvent } from '../oracle/writer-log.ts';
import type { Point } from '../record/layout.ts';
import type { CaseRecord } from '../record/read.ts';

/** Mirrors some workload wrote or read, each judged on its own. */
function workedMirrors(rec: CaseRecord) {
  return rec.mirrors.filter((m) => rec.workloadsOf(m.index).length > 0);
}

/** Judges each worked mirror; with none, the check judged nothing (an empty verdict with a zero count). */
async function perMirror(invariant: string, rec: CaseRecord, nothing: string, judge: (mirror: number) => Promise<Verdict>): Promise<Verdict> {
  const mirrors = workedMirrors(rec);
  if (mirrors.length === 0) return { valid: true, invariant, detail: nothing, findings: [], judged: [{ n: 0, what: nothing }] };
  const verdicts: Verdict[] = [];
  for (const m of mirrors) {
    const v = await judge(m.index);
    verdicts.push(rec.mirrors.length > 1 ? { ...v, detail: `${m.name}: ${v.detail}`, findings: v.findings.map((f) => ({ ...f, mirror: m.name })) } : v);
  }
  return mergeVerdicts(invariant, verdicts);
}

/** Every leg holds, for every block written, its last acknowledged write or a later one (legs read once in sync). */
export function noLostWrites(rec: CaseRecord, point: Point): Promise<Verdict> {
  return perMirror('no-lost-writes', rec, 'writes (no workload ran)', (mirror) => {
    const m = rec.mirrors[mirror]!;
    return checkNoLostWrites({
      events: rec.writerEvents(point, mirror).filter((e) => e.op !== 'read'),
      images: m.legs.map((l, i) => ({ source: { path: rec.disk(point, l.serial) }, label: `${m.name}/leg${i}` })),
      blockBytes: rec.blockBytes(mirror),
      runId: rec.runId,
      regionBytes: rec.case.topology.regionSize,
      clockSkewNs: rec.clockSkewNs(point),
    });
  });
}

export function noStaleReads(rec: CaseRecord, point: Point): Promise<Verdict> {
  return perMirror('no-stale-reads', rec, 'reads (no workload ran)', (mirror) => {
    const events = rec.writerEvents(point, mirror);
    return checkNoStaleReads({
      writes: events.filter((e): e is WriteEvent => e.op !== 'read'),
      reads: events.filter((e): e is ReadEvent => e.op === 'read'),
      clockSkewNs: rec.clockSkewNs(point),
      runId: rec.runId,
      regionBytes: rec.case.topology.regionSize,
    });
  });
}

/** Every write caught in flight by a sample, with its data on some legs but not all, is in a region dirty on disk. */
export function dirtyBeforeWrite(rec: CaseRecord, point: Point): Promise<Verdict> {
  const invariant = 'dirty-before-write';
  if (rec.mirrors.every((m) => !m.log)) return Promise.resolve(notApplicable(invariant, 'clustered-core: no log device to sample'));
  return perMirror(invariant, rec, 'in-flight writes (no workload ran)', async (mirror) => {
    const m = rec.mirrors[mirror]!;
    const events = rec.writerEvents(point, mirror);
    const samples = await Promise.all(
      rec.samples(point)
        .filter((s) => s.mirror === mirror && s.log)
        .map(async (s) => {
          const freezeNs = new Map(Object.entries(s.freezeNs).map(([n, t]) => [Number(n), t]));
          // A node that was not live at the freeze has nothing in flight there: its guest is gone or stopped.
          const mine = events.filter((e) => freezeNs.has(e.node));
          return {
            sample: s.sample,
            log: await readFile(join(rec.dir, s.log!)),
            inFlight: inFlightAt(mine, freezeNs, rec.runId),
            legs: s.legs.map((l) => ({ source: { path: join(rec.dir, l.file) }, label: l.label })),
          };
        }),
    );
    return checkDirtyBeforeWrite({
      samples,
      regionBytes: rec.case.topology.regionSize,
      blockBytes: rec.blockBytes(mirror),
      mirrorBytes: m.sectors * 512,
      runId: rec.runId,
    });
  });
}

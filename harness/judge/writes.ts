/** no-lost-writes, no-stale-reads and dirty-before-write: the writers' and readers' logs against the disks, per mirror. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkDirtyBeforeWrite, inFlightAt } from '../oracle/checks/dirty-before-write.ts';
import { checkNoLostWrites } from '../oracle/checks/no-lost-writes.ts';
import { checkNoStaleReads } from '../oracle/checks/no-stale-reads.ts';
import { mergeVerdicts, notApplicable, unknownVerdict, type Verdict } from '../oracle/verdict.ts';
import { inSync, parseDmStatus } from '../oracle/dm-status.ts';
import type { ReadEvent, WriteEvent } from '../oracle/writer-log.ts';
import type { Point } from '../record/layout.ts';
import type { CaseRecord } from '../record/read.ts';
import { NOT_CREATED } from './disks.ts';

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

/**
 * Live nodes that did not report mirror m in sync at the point. While a region is out of sync dm-raid1 writes
 * it to the default leg alone, so only that leg can be held to every acknowledged write then.
 */
function behind(rec: CaseRecord, point: Point, name: string): string[] {
  return rec.evidence(point).live.flatMap((node) => {
    const text = rec.nodeFile(point, 'status', node) ?? '';
    const s = parseDmStatus(text).find((x) => x.name === name);
    return s && inSync(s) ? [] : [`node${node}`];
  });
}

/** Every leg holds, for every block written, its last acknowledged write or a later one; only the default leg while the mirror is not in sync. */
export function noLostWrites(rec: CaseRecord, point: Point): Promise<Verdict> {
  return perMirror('no-lost-writes', rec, 'writes (no workload ran)', async (mirror) => {
    const m = rec.mirrors[mirror]!;
    const late = behind(rec, point, m.name);
    // dm-raid1 moves its default leg off a failed leg 0, and which one it took is not in the status.
    const leg0Failed = rec.faults(point).some((f) => f.event === 'start' && f.params?.kind === 'fail-leg' && f.params.leg === 0);
    if (late.length && leg0Failed) return unknownVerdict('no-lost-writes', `not in sync on ${late.join(', ')} after leg 0 failed: which leg holds every write is not known`);
    const legs = late.length ? m.legs.slice(0, 1) : m.legs;
    const v = await checkNoLostWrites({
      events: rec.writerEvents(point, mirror).filter((e) => e.op !== 'read'),
      images: legs.map((l, i) => ({ source: { path: rec.disk(point, l.serial) }, label: `${m.name}/leg${i}` })),
      blockBytes: rec.blockBytes(mirror),
      runId: rec.runId,
      regionBytes: rec.case.topology.regionSize,
      clockSkewNs: rec.clockSkewNs(point),
    });
    return late.length ? { ...v, detail: `${v.detail} (the default leg only: not in sync on ${late.join(', ')})` } : v;
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
  if (!rec.mirrorCreated(point)) return Promise.resolve(notApplicable(invariant, NOT_CREATED));
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

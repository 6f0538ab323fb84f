/**
 * Invariant 1: while a node has a write in flight to region R, R's bit in the on-disk log is 0 (dirty).
 * Judged on samples taken with the whole cluster frozen: the log device's bytes, and the writes in flight at the
 * freeze according to the writers' logs.
 *
 * By the writers' logs alone the check has blind windows at both ends of a write: a writer logs 'write-start'
 * just before it issues the write, and dm-raid1 marks the region and flushes the log (cmirrord writes the disk)
 * before it writes any leg, so an early write may not have reached the log yet; and dm-raid1 drops its hold on the
 * region (mirror_end_io -> dm_rh_dec) before the writer sees its ack, so kmirrord may already have cleared the region
 * of a write that is done on every leg. In both cases a clean bit is no violation.
 * When the sample includes the legs, a write is judged only if its data is on some leg but not all of them: the
 * kernel has written a leg (the mark was flushed) and has not finished the others (the region is still held).
 * Without legs every in-flight write is judged, which can raise a false alarm for a freeze in those windows.
 *
 * Acknowledged writes are not judged: a region is rightly marked clean again after its writes complete, and
 * whether its legs then agree is clean-implies-equal's question on the same sample.
 */
import { decodeBlock, describeBlock } from '../block-header.ts';
import { decodeOrFinding, regionCount } from '../disk-log.ts';
import { withImages } from '../image.ts';
import type { LegInput } from '../legs.ts';
import type { WriterEvent } from '../writer-log.ts';
import { safeCheck, verdictFrom, type Finding, type Verdict } from '../verdict.ts';

export const INVARIANT = 'dirty-before-write';

export interface InFlightWrite {
  node: number;
  block: number;
  /** Absolute byte offset on the mirror. */
  offset: number;
  seq: number;
  /** Issue time on the writer's guest clock (ns). */
  start: number;
}

export interface DirtyBeforeWriteSample {
  /** Sample number, for the finding and the artifacts. */
  sample: number;
  /** The log device's bytes, read while every guest was paused. */
  log: Buffer;
  /** Writes started but not acknowledged at the freeze (see inFlightAt). */
  inFlight: InFlightWrite[];
  /** The legs read in the same freeze; when given, only writes whose data is on some but not every leg are judged. */
  legs?: LegInput[];
}

export interface DirtyBeforeWriteInput {
  samples: DirtyBeforeWriteSample[];
  regionBytes: number;
  blockBytes: number;
  /** The mirror's length from its table; checks the log's region count when given. */
  mirrorBytes?: number;
  /** Legs holding a block of another run do not count as holding the in-flight write. */
  runId?: number;
}

/**
 * Writes in flight at a freeze: 'write-start' at or before the node's freeze time with no 'write' ack at or before
 * it. `freezeNs` is each writer node's guest clock (ns) at the freeze; a node with events but no freeze time throws.
 */
export function inFlightAt(events: WriterEvent[], freezeNs: ReadonlyMap<number, number>, runId?: number): InFlightWrite[] {
  const started = new Map<string, InFlightWrite>();
  const acked = new Set<string>();
  for (const e of events) {
    if (e.op === 'read' || (runId !== undefined && e.run !== runId)) continue;
    const freeze = freezeNs.get(e.node);
    if (freeze === undefined) throw new Error(`no freeze time for node${e.node}, whose writer logged events`);
    if (e.t > freeze) continue;
    const k = `${e.node}/${e.seq}`;
    if (e.op === 'write') acked.add(k);
    else started.set(k, { node: e.node, block: e.block, offset: e.offset, seq: e.seq, start: e.t });
  }
  return [...started].filter(([k]) => !acked.has(k)).map(([, w]) => w);
}

/** Labels (with what they hold) of the legs that hold some sector of write `w`. */
async function legsHolding(legs: LegInput[], w: InFlightWrite, blockBytes: number, runId?: number): Promise<string[]> {
  return withImages(
    legs.map((l, i) => ({ source: l.source, label: l.label ?? `leg${i}` })),
    async (images) => {
      const seen: string[] = [];
      for (const image of images) {
        const d = decodeBlock(await image.read(w.offset, blockBytes), w.offset);
        const holds = (id: { node: number; seq: number; runId: number }) =>
          id.node === w.node && id.seq === w.seq && (runId === undefined || id.runId === runId);
        const sectors = d.kind === 'torn' ? d.sectors ?? [] : [];
        if ((d.kind === 'valid' && holds(d.header!)) || sectors.some((s) => typeof s.from !== 'string' && holds(s.from))) {
          seen.push(`${image.label} ${describeBlock(d, runId)}`);
        }
      }
      return seen;
    },
  );
}

export async function dirtyBeforeWrite(input: DirtyBeforeWriteInput): Promise<Verdict> {
  const expectedRegions = input.mirrorBytes === undefined ? undefined : regionCount(input.mirrorBytes, input.regionBytes);
  const findings: Finding[] = [];
  let judged = 0;
  let notMidway = 0;
  for (const sample of input.samples) {
    const decoded = decodeOrFinding(sample.log, expectedRegions, `sample ${sample.sample}`);
    if ('finding' in decoded) {
      findings.push(decoded.finding);
      continue;
    }
    const log = decoded.log;
    for (const w of sample.inFlight) {
      if (w.offset !== w.block * input.blockBytes) throw new Error(`sample ${sample.sample}: block ${w.block} is not at offset ${w.offset}`);
      const region = Math.floor(w.offset / input.regionBytes);
      const seen = sample.legs ? await legsHolding(sample.legs, w, input.blockBytes, input.runId) : [];
      if (sample.legs && (seen.length === 0 || seen.length === sample.legs.length)) {
        notMidway++;
        continue;
      }
      judged++;
      if (!log.clean(region)) continue;
      const evidence = seen.length ? `; its data is already on ${seen.join(', ')} but not on the other legs` : '';
      findings.push({
        kind: 'clean-while-in-flight',
        region,
        block: w.block,
        offset: w.offset,
        nodes: [`node${w.node} seq ${w.seq}`],
        ...(seen.length ? { legs: seen } : {}),
        message:
          `sample ${sample.sample}: region ${region} is clean on disk while node${w.node} seq ${w.seq} ` +
          `(block ${w.block}, offset ${w.offset}, issued t=${w.start}) is in flight${evidence}`,
      });
    }
  }
  const what = `${input.samples.length} frozen samples, ${judged} in-flight writes judged` + (notMidway ? `, ${notMidway} on no leg or on every leg (not judged)` : '');
  return verdictFrom(INVARIANT, findings, `${what}: every one in a dirty region`, `in ${what}`, [
    { n: judged, what: 'in-flight writes' },
    { n: input.samples.length, what: 'samples' },
  ]);
}

export const checkDirtyBeforeWrite = (input: DirtyBeforeWriteInput) => safeCheck(INVARIANT, () => dirtyBeforeWrite(input));

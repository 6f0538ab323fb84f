/**
 * Invariant 6 (reads): a read never returns a block older than the last write to it that was acknowledged
 * before the read started.
 *
 * Times are each guest's own clock, so an ordering between two events is trusted only when both come from the
 * same node, or when a bound on the skew between guests is given (then the gap must exceed it):
 *   - write w must be visible to read r when w was acknowledged before r started;
 *   - what r found (write f) is older than w when f was acknowledged before w was issued.
 * Anything else is concurrent and allowed. A read finding an empty block when some write must be visible is stale.
 * Torn and foreign reads are not judged here: a torn read overlapping a write is legitimate, and blocks at rest
 * are judged by no-lost-writes.
 */
import type { ReadEvent, WriteEvent } from '../writer-log.ts';
import { safeCheck, verdictFrom, type Finding, type Verdict } from '../verdict.ts';

export const INVARIANT = 'no-stale-reads';

export interface NoStaleReadsInput {
  /** 'write-start' and 'write' events of every node's writers (writer-log.ts). */
  writes: WriteEvent[];
  /** 'read' events of every node's readers: what header each read saw, with guest times. */
  reads: ReadEvent[];
  /** Bound on clock skew between any two guests, in ns; without it only same-node orderings count. */
  clockSkewNs?: number;
  /** Only this run's events count; defaults to the writes' only run id. */
  runId?: number;
  /** Adds "region R" to findings when given. */
  regionBytes?: number;
}

interface Write {
  node: number;
  seq: number;
  start: number;
  /** Ack time; Infinity while never acknowledged. */
  end: number;
}

const label = (w: { node: number; seq: number }) => `node${w.node} seq ${w.seq}`;

export function noStaleReads(input: NoStaleReadsInput): Verdict {
  const runs = [...new Set(input.writes.map((e) => e.run))];
  if (input.runId === undefined && runs.length > 1) throw new Error(`writer logs mix runs ${runs.join(', ')}; say which one`);
  const runId = input.runId ?? runs[0];
  const skew = input.clockSkewNs;
  /** a happened before b by the clocks available: same node, or beyond the skew bound. */
  const before = (aNode: number, aT: number, bNode: number, bT: number) =>
    aNode === bNode ? aT < bT : skew !== undefined && aT + skew < bT;

  const byBlock = new Map<number, Map<string, Write>>();
  for (const e of input.writes) {
    if (e.run !== runId) continue;
    const writes = byBlock.get(e.block) ?? new Map<string, Write>();
    byBlock.set(e.block, writes);
    const k = `${e.node}/${e.seq}`;
    const w = writes.get(k) ?? { node: e.node, seq: e.seq, start: e.t, end: Infinity };
    if (e.op === 'write') Object.assign(w, { start: e.start ?? w.start, end: e.t });
    writes.set(k, w);
  }

  const findings: Finding[] = [];
  let judged = 0;
  let skipped = 0;
  for (const r of input.reads) {
    if (r.run !== runId) continue;
    if (r.kind !== 'valid' && r.kind !== 'empty') {
      skipped++;
      continue;
    }
    judged++;
    const writes = [...(byBlock.get(r.block)?.values() ?? [])];
    const visible = writes.filter((w) => w.end !== Infinity && before(w.node, w.end, r.node, r.start));
    if (!visible.length) continue;
    const f = r.found && r.found.run === runId ? writes.find((w) => w.node === r.found!.node && w.seq === r.found!.seq) : undefined;
    const foundText = r.kind === 'empty' ? 'empty' : r.found!.run !== runId ? `${label(r.found!)} of run ${r.found!.run}` : label(r.found!);
    let superseding: Write | undefined;
    if (r.kind === 'empty' || r.found!.run !== runId) {
      superseding = visible.reduce((a, w) => (w.end > a.end ? w : a));
    } else if (!f) {
      findings.push(finding(r, 'unlogged', `${foundText}, which no writer logged`, visible, input.regionBytes));
      continue;
    } else {
      superseding = visible.find((w) => w !== f && f.end !== Infinity && before(f.node, f.end, w.node, w.start));
    }
    if (superseding) {
      findings.push(finding(r, 'stale', `${foundText}, but ${label(superseding)} was acknowledged before the read started`, visible, input.regionBytes));
    }
  }
  const what = `${judged} reads (${skipped} torn or foreign, not judged)${skew === undefined ? ', same-node orderings only' : `, skew bound ${skew} ns`}`;
  return verdictFrom(INVARIANT, findings, `${what}: none older than the last acknowledged write`, `in ${what}`, [{ n: judged, what: 'reads' }]);
}

function finding(r: ReadEvent, kind: string, what: string, visible: Write[], regionBytes?: number): Finding {
  const region = regionBytes ? Math.floor(r.offset / regionBytes) : undefined;
  const latest = visible.reduce((a, w) => (w.end > a.end ? w : a));
  const where = `${region !== undefined ? `region ${region} ` : ''}block ${r.block} (offset ${r.offset})`;
  return {
    kind,
    ...(region !== undefined ? { region } : {}),
    block: r.block,
    offset: r.offset,
    nodes: [`node${r.node} (reader)`, ...visible.map(label)],
    message: `${where}: read on node${r.node} at t=${r.start} returned ${what}; expected ${label(latest)} or newer`,
  };
}

export const checkNoStaleReads = (input: NoStaleReadsInput) => safeCheck(INVARIANT, () => noStaleReads(input));

/**
 * Every check by name, and judge(): the one path from a case's record to its verdicts. Each adapter reads
 * its inputs from the record (case directory) and judges them with the oracle's pure check; the live run
 * and `clogtest check` both come through here.
 */
import type { CheckName } from '../case/schema.ts';
import { describeJudged, judgedNothing, safeCheck, type Verdict } from '../oracle/verdict.ts';
import type { Point } from '../record/layout.ts';
import type { CaseRecord } from '../record/read.ts';
import { cleanImpliesEqual, legsConverge } from './disks.ts';
import { invalidTablesRefused, kernelClean, markedBeforeWrite, nodesAgree, noHang, oneRecoveryAtATime, requestsAnswered, singleWriter } from './nodes.ts';
import { dirtyBeforeWrite, noLostWrites, noStaleReads } from './writes.ts';

export type RecordCheck = (rec: CaseRecord, point: Point) => Promise<Verdict>;

export const CHECK_REGISTRY: Record<CheckName, RecordCheck> = {
  'clean-implies-equal': cleanImpliesEqual,
  'dirty-before-write': dirtyBeforeWrite,
  'no-lost-writes': noLostWrites,
  'no-stale-reads': noStaleReads,
  'legs-converge': legsConverge,
  'nodes-agree': nodesAgree,
  'no-hang': noHang,
  'kernel-clean': kernelClean,
  'single-writer': singleWriter,
  'marked-before-write': markedBeforeWrite,
  'one-recovery-at-a-time': oneRecoveryAtATime,
  'requests-answered': requestsAnswered,
  'invalid-tables-refused': invalidTablesRefused,
};

export interface NamedVerdict extends Verdict {
  check: CheckName;
  point: Point;
  /** Listed, not false, and judged nothing or could not judge, with no reason given in the case. */
  inconclusive: boolean;
}

/**
 * The verdicts of `names` at `point`. A listed check that could not judge, or judged nothing, is inconclusive,
 * unless the check itself found the invariant not applicable or the case says why it does not apply
 * (`not-applicable:`); a check that found a violation is a failure whatever the case says.
 */
export async function judge(rec: CaseRecord, point: Point, names: readonly CheckName[]): Promise<NamedVerdict[]> {
  const listed = new Set(rec.listedChecks());
  const excused = rec.case.notApplicable;
  const out: NamedVerdict[] = [];
  for (const check of names) {
    let v = await safeCheck(check, () => CHECK_REGISTRY[check](rec, point));
    const silent = v.valid === 'unknown' || (v.valid === true && judgedNothing(v));
    const reason = excused[check];
    if (silent && reason !== undefined) v = { ...v, valid: 'not-applicable', detail: `${reason} (the case says so; the check saw: ${v.detail.split('\n')[0]})` };
    out.push({ ...v, check, point, inconclusive: listed.has(check) && silent && reason === undefined });
  }
  return out;
}

/** One line for TAP and the progress line: the state, what was judged, the first line of the detail. */
export function verdictLine(v: NamedVerdict): string {
  const state = v.valid === true ? (v.inconclusive ? 'INCONCLUSIVE' : 'ok') : v.valid === false ? 'FAILED' : v.valid === 'unknown' ? (v.inconclusive ? 'INCONCLUSIVE' : 'unknown') : 'not applicable';
  const judged = v.valid === 'not-applicable' ? '' : ` [judged ${describeJudged(v.judged)}]`;
  return `${v.check}${v.point === 'end' ? '' : ` at ${v.point}`}: ${state}${judged}: ${v.detail.split('\n')[0]}`;
}

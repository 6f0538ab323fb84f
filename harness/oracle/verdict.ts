/** What every oracle check returns, and the wrapper that turns a crashing check into 'unknown'. */
import { errorMessage } from '../base/errors.ts';

/**
 * true: the invariant held over everything judged; false: it did not (see findings); 'unknown': the check
 * could not judge (it crashed, or its inputs were not there); 'not-applicable': the invariant has nothing
 * to say about this case (a disk-log check on a clustered-core mirror).
 */
export type Validity = true | false | 'unknown' | 'not-applicable';

/** One concrete violation, located well enough to look at the bytes by hand. */
export interface Finding {
  /** A short tag a report can group by, e.g. 'legs-differ', 'lost', 'stale', 'torn'. */
  kind: string;
  region?: number;
  block?: number;
  /** Absolute byte offset on the mirror (and on every leg). */
  offset?: number;
  /** Writers involved, as "node2 seq 44". */
  nodes?: string[];
  /** Per-leg or per-image description of what was found there. */
  legs?: string[];
  /** The mirror the finding is about, when the case has several. */
  mirror?: string;
  /** The whole finding as one line. */
  message: string;
}

/**
 * How much a check looked at, as counted things: the first is what the check exists to judge (writes,
 * reads, regions...), so a first count of 0 means it judged nothing, whatever the others say.
 */
export type Judged = Array<{ n: number; what: string }>;

export interface Verdict {
  valid: Validity;
  invariant: string;
  detail: string;
  findings: Finding[];
  judged: Judged;
}

/** Findings past this many are counted, not listed, so one broken disk cannot drown the report. */
export const MAX_FINDINGS = 50;

export function judgedNothing(v: Pick<Verdict, 'judged'>): boolean {
  return (v.judged[0]?.n ?? 0) === 0;
}

/** "3 in-flight writes, 12 samples". */
export function describeJudged(judged: Judged): string {
  return judged.length ? judged.map((j) => `${j.n} ${j.what}`).join(', ') : 'nothing';
}

export function verdictFrom(invariant: string, findings: Finding[], okDetail: string, scanned: string, judged: Judged): Verdict {
  if (findings.length === 0) return { valid: true, invariant, detail: okDetail, findings, judged };
  const shown = findings.slice(0, MAX_FINDINGS);
  const more = findings.length - shown.length;
  const lines = shown.map((f) => f.message);
  if (more > 0) lines.push(`... and ${more} more`);
  return {
    valid: false,
    invariant,
    detail: `${findings.length} violation${findings.length === 1 ? '' : 's'} ${scanned}:\n${lines.join('\n')}`,
    findings: shown,
    judged,
  };
}

export function unknownVerdict(invariant: string, why: string): Verdict {
  return { valid: 'unknown', invariant, detail: why, findings: [], judged: [] };
}

export function notApplicable(invariant: string, why: string): Verdict {
  return { valid: 'not-applicable', invariant, detail: why, findings: [], judged: [] };
}

/**
 * One verdict from several (one per mirror, or the end state and the samples): false if any is false,
 * not-applicable if all are, unknown if any is (and none is false), counts added up by what they count.
 */
export function mergeVerdicts(invariant: string, verdicts: readonly Verdict[]): Verdict {
  if (verdicts.length === 1) return verdicts[0]!;
  const relevant = verdicts.filter((v) => v.valid !== 'not-applicable');
  if (relevant.length === 0) return verdicts[0] ?? notApplicable(invariant, 'nothing to judge');
  const valid = relevant.some((v) => v.valid === false) ? false : relevant.every((v) => v.valid === true) ? true : 'unknown';
  const judged: Judged = [];
  for (const v of relevant) {
    for (const j of v.judged) {
      const same = judged.find((x) => x.what === j.what);
      if (same) same.n += j.n;
      else judged.push({ ...j });
    }
  }
  return {
    valid,
    invariant,
    detail: relevant.map((v) => v.detail).join('\n'),
    findings: relevant.flatMap((v) => v.findings).slice(0, MAX_FINDINGS),
    judged,
  };
}

/**
 * A check that crashes knows nothing about the system under test, so it says 'unknown'
 * rather than false, and never takes the rest of the report down with it (Jepsen's check-safe).
 */
export async function safeCheck(invariant: string, check: () => Verdict | Promise<Verdict>): Promise<Verdict> {
  try {
    return await check();
  } catch (err) {
    return unknownVerdict(invariant, `check could not run: ${errorMessage(err)}`);
  }
}

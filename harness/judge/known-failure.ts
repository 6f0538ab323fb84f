/**
 * Which findings a case's known bugs explain (pure). A failure is the known one only when every finding of
 * every failed check matches a signature of one of the bugs the case names; any other finding is a failure
 * of its own, however many known ones come with it.
 */
import { KNOWN_BUGS, type FindingPattern } from '../case/known-bugs.ts';
import type { CheckName, KnownFailure } from '../case/schema.ts';
import type { Finding } from '../oracle/verdict.ts';
import type { Point } from '../record/layout.ts';

/** A finding as the explanation reports it. */
export interface FindingRef {
  check: CheckName;
  point: Point;
  kind: string;
  message: string;
}

export interface ExplainedFinding extends FindingRef {
  bug: number;
}

export interface Explanation {
  explained: ExplainedFinding[];
  unexplained: FindingRef[];
}

/** What a signature may relate a finding to: the nodes the case's faults targeted, the regions it names. */
export interface ExplainContext {
  faultedNodes: readonly number[];
}

/** The node ids a finding names ("node2 seq 44" -> 2). */
export function nodesNamed(f: Finding): number[] {
  return (f.nodes ?? []).flatMap((n) => {
    const m = /^node(\d+)\b/.exec(n);
    return m ? [Number(m[1])] : [];
  });
}

export function matchesPattern(p: FindingPattern, check: CheckName, f: Finding, kf: KnownFailure, ctx: ExplainContext): boolean {
  if (p.check !== check || !p.kinds.includes(f.kind)) return false;
  if (p.says && !p.says.test(f.message)) return false;
  if (p.onFaultedNode && !nodesNamed(f).some((n) => ctx.faultedNodes.includes(n))) return false;
  if (p.inCaseRegions && kf.regions && (f.region === undefined || !kf.regions.includes(f.region))) return false;
  return true;
}

/** Every finding of every failed verdict, each with the first of the case's bugs whose signature it matches. */
export function explainFindings(
  kf: KnownFailure | undefined,
  verdicts: ReadonlyArray<{ check: CheckName; point: Point; valid: unknown; findings: readonly Finding[] }>,
  ctx: ExplainContext,
): Explanation {
  const out: Explanation = { explained: [], unexplained: [] };
  for (const { v, f } of failedFindings(verdicts)) {
    const ref = { check: v.check, point: v.point, kind: f.kind, message: f.message };
    const bug = kf?.bugs.find((id) => KNOWN_BUGS.get(id)?.findings.some((p) => matchesPattern(p, v.check, f, kf, ctx)));
    if (bug !== undefined) out.explained.push({ ...ref, bug });
    else out.unexplained.push(ref);
  }
  return out;
}

/**
 * Every finding of every failed verdict, with its verdict. A check that failed without saying where yields one
 * `unlocated` finding, which no signature matches.
 */
export function failedFindings<V extends { check: CheckName; valid: unknown; findings: readonly Finding[] }>(verdicts: readonly V[]): Array<{ v: V; f: Finding }> {
  return verdicts
    .filter((v) => v.valid === false)
    .flatMap((v) => (v.findings.length ? v.findings : [{ kind: 'unlocated', message: `${v.check} failed without a finding` }]).map((f) => ({ v, f })));
}

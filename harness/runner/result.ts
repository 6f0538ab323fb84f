/** What a case's verdicts add up to (pure): its status, the message that says why, and its findings. */
import type { KnownFailure, CheckName } from '../case/schema.ts';
import type { NamedVerdict } from '../checks/index.ts';
import type { HistoryEntry } from '../history.ts';
import type { CasePhases } from '../record/phases.ts';
import { describeJudged } from '../oracle/verdict.ts';
import { ranges } from '../oracle/disk-log.ts';

/**
 * passed: every check held and every listed check judged something; failed: a check found a violation;
 * inconclusive: nothing failed, but a listed check judged nothing or could not judge (a silent pass is no
 * pass); infra: the case could not be carried out.
 */
export const CASE_STATUSES = ['passed', 'failed', 'inconclusive', 'infra'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export interface CaseResult {
  name: string;
  /** The stack it ran on, when the run named stacks (--stack). */
  stack?: string;
  file: string;
  tags: string[];
  iteration: number;
  seed: number;
  dir: string;
  status: CaseStatus;
  verdicts: NamedVerdict[];
  /** Why the case is not a pass, as one message. */
  message?: string;
  durationMs: number;
  /** Set when the case failed exactly as its known-failure says (or passed while marked as one). */
  knownFailure?: string;
  /** With knownFailure: the bug shows only when the timing hits it (KnownFailure.intermittent). */
  intermittent?: boolean;
  /** Where its time went (record/phases.ts). */
  phases?: CasePhases;
}

/** A case on a named stack is case@stack, so that one run can hold it side by side with another stack. */
export function caseName(r: Pick<CaseResult, 'name' | 'stack'>): string {
  return r.stack ? `${r.name}@${r.stack}` : r.name;
}

/** Failed checks a known failure does not name: each makes the case a failure of its own. */
export function unexplainedFailures(kf: KnownFailure | undefined, verdicts: ReadonlyArray<Pick<NamedVerdict, 'check' | 'valid'>>): CheckName[] {
  const expected = kf?.checks;
  if (!expected) return [];
  return [...new Set(verdicts.filter((v) => v.valid === false && !expected.includes(v.check)).map((v) => v.check))];
}

/** "regions 3,7; blocks 12,...; nodes node2 seq 4" for a failed verdict. */
function where(v: NamedVerdict): string {
  const regions = [...new Set(v.findings.flatMap((f) => (f.region !== undefined ? [f.region] : [])))];
  const blocks = [...new Set(v.findings.flatMap((f) => (f.block !== undefined ? [f.block] : [])))];
  const nodes = [...new Set(v.findings.flatMap((f) => f.nodes ?? []))];
  const mirrors = [...new Set(v.findings.flatMap((f) => (f.mirror ? [f.mirror] : [])))];
  return [
    mirrors.length ? `mirrors ${mirrors.join(',')}` : '',
    regions.length ? `regions ${ranges(regions.slice(0, 20))}${regions.length > 20 ? ',...' : ''}` : '',
    blocks.length ? `blocks ${blocks.slice(0, 10).join(',')}${blocks.length > 10 ? ',...' : ''}` : '',
    nodes.length ? `nodes ${nodes.slice(0, 6).join(', ')}${nodes.length > 6 ? ', ...' : ''}` : '',
  ]
    .filter(Boolean)
    .join('; ');
}

/** The first few findings of a failed check, one line each; the rest are in findings.json. */
const FINDINGS_SHOWN = 3;

export function failureLine(v: NamedVerdict): string {
  const at = where(v);
  const first = v.findings.slice(0, FINDINGS_SHOWN).map((f) => `    ${f.message}`);
  const more = v.findings.length > FINDINGS_SHOWN ? [`    ... ${v.findings.length - FINDINGS_SHOWN} more in findings.json and the run's report.html`] : [];
  const count = `${v.findings.length} finding${v.findings.length === 1 ? '' : 's'}`;
  return [`${v.invariant} violated${v.point === 'end' ? '' : ` at ${v.point}`} (${count}${at ? `: ${at}` : ''})`, ...first, ...more].join('\n');
}

export function inconclusiveLine(v: NamedVerdict): string {
  const why = v.valid === 'unknown' ? `could not judge: ${v.detail.split('\n')[0]}` : `judged nothing (${describeJudged(v.judged)})`;
  return `inconclusive: ${v.check}${v.point === 'end' ? '' : ` at ${v.point}`} is listed by the case but ${why}`;
}

/** What a case run gives its result: its identity and verdicts as CaseResult holds them, and the raw rest. */
export interface ResultInput extends Pick<CaseResult, 'name' | 'stack' | 'file' | 'tags' | 'iteration' | 'seed' | 'dir' | 'durationMs' | 'verdicts'> {
  knownFailure?: KnownFailure;
  /** Why the case could not be carried out, if it could not. */
  infra?: string;
  /** The last history entries, for a failure's "what happened just before". */
  lastEvents: readonly HistoryEntry[];
}

export function caseResult(i: ResultInput): CaseResult {
  const failed = i.verdicts.filter((v) => v.valid === false);
  const inconclusive = i.verdicts.filter((v) => v.inconclusive);
  const unexplained = unexplainedFailures(i.knownFailure, i.verdicts);
  const base = { name: i.name, ...(i.stack ? { stack: i.stack } : {}), file: i.file, tags: i.tags, iteration: i.iteration, seed: i.seed, dir: i.dir, verdicts: i.verdicts, durationMs: i.durationMs };
  const known = i.knownFailure && { knownFailure: i.knownFailure.reason, ...(i.knownFailure.intermittent && { intermittent: true }) };
  const tail = `case dir: ${i.dir}`;
  if (failed.length) {
    const before = i.lastEvents.map((e) => `  +${(e.ms / 1000).toFixed(1)}s ${e.type} ${String(e.what ?? e.check ?? e.fault ?? e.event ?? '')}`);
    const notKnown = unexplained.length ? `not the known failure (${i.knownFailure!.checks!.join(', ')}): ${unexplained.join(', ')} failed too\n` : '';
    const byCheck = [...new Set(failed.map((v) => v.check))].map((c) => {
      const n = failed.filter((v) => v.check === c).reduce((a, v) => a + v.findings.length, 0);
      return `${c} (${n} finding${n === 1 ? '' : 's'})`;
    });
    const head = `violated: ${byCheck.join(', ')}; every finding in findings.json and the run's report.html`;
    const message = `${notKnown}${head}\n${failed.map(failureLine).join('\n')}${i.infra ? `\nalso: ${i.infra}` : ''}\nlast events (history.jsonl):\n${before.join('\n')}\n${tail}`;
    return { ...base, status: 'failed', message, ...(!unexplained.length ? known : {}) };
  }
  if (i.infra) return { ...base, status: 'infra', message: `infrastructure: ${i.infra}\n${tail}` };
  if (inconclusive.length) return { ...base, status: 'inconclusive', message: `${inconclusive.map(inconclusiveLine).join('\n')}\n${tail}` };
  return { ...base, status: 'passed', ...known };
}

/** Every finding of every failed check, as findings.json holds them. */
export function findingsOf(verdicts: readonly NamedVerdict[]) {
  return verdicts.filter((v) => v.valid === false).flatMap((v) => v.findings.map((f) => ({ check: v.check, point: v.point, invariant: v.invariant, ...f })));
}

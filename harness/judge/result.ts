/** What a case's verdicts add up to (pure): its status, the message that says why, and its findings. */
import type { KnownFailure } from '../case/schema.ts';
import { describeBug } from '../case/known-bugs.ts';
import { caseOutcome, type CaseStatus, type Outcome } from '../case/outcome.ts';
import type { NamedVerdict } from './index.ts';
import type { HistoryEntry } from '../record/history.ts';
import type { CasePhases } from '../record/phases.ts';
import { describeJudged } from '../oracle/verdict.ts';
import { ranges } from '../oracle/disk-log.ts';
import { explainFindings, type ExplainContext, type ExplainedFinding, type FindingRef } from './known-failure.ts';

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
  /** What the case comes to, as every report and the exit code read it (caseOutcome). */
  outcome: Outcome;
  /** The known failure in force for this run (with --fixes, the bugs without a fix), and what it explains. */
  known?: KnownResult;
  /** Where its time went (record/phases.ts). */
  phases?: CasePhases;
  /** A failure put down to the environment: a node came back to the ring unfenced (CaseRecord.outOfModel). */
  outOfModel?: string;
}

export interface KnownResult {
  bugs: number[];
  intermittent: boolean;
  /** The bugs in force, described: "bug 11 (a FLUSH that races a suspend ...)". */
  description: string;
  /** The bugs whose findings this run produced, described; empty when none showed. */
  hit: string;
  explained: ExplainedFinding[];
  unexplained: FindingRef[];
}

/** A case on a named stack is case@stack, so that one run can hold it side by side with another stack. */
export function caseName(r: Pick<CaseResult, 'name' | 'stack'>): string {
  return r.stack ? `${r.name}@${r.stack}` : r.name;
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
  /** The known failure in force (case/known-bugs.ts knownFailureInForce). */
  knownFailure?: KnownFailure;
  /** What the known bugs' signatures may relate findings to. */
  explainContext: ExplainContext;
  /** Why the case could not be carried out, if it could not. */
  infra?: string;
  /** A node came back to the ring unfenced (CaseRecord.outOfModel): a failure then is the environment's. */
  outOfModel?: string;
  /** The last history entries, for a failure's "what happened just before". */
  lastEvents: readonly HistoryEntry[];
}

/** "known failure: bug 3 (...), bug 11 (...)" and the findings it does not explain, for a case's message. */
function knownLines(k: KnownResult): string {
  if (!k.unexplained.length) return '';
  const shown = k.unexplained.slice(0, FINDINGS_SHOWN).map((f) => `    ${f.check}${f.point === 'end' ? '' : ` at ${f.point}`}: ${f.message}`);
  const more = k.unexplained.length > FINDINGS_SHOWN ? [`    ... ${k.unexplained.length - FINDINGS_SHOWN} more`] : [];
  const said = k.explained.length ? `; ${k.explained.length} finding${k.explained.length === 1 ? '' : 's'} are the known ones` : '';
  return [`not the known failure (${k.description}): ${k.unexplained.length} finding${k.unexplained.length === 1 ? '' : 's'} no known bug explains${said}`, ...shown, ...more].join('\n') + '\n';
}

export function caseResult(i: ResultInput): CaseResult {
  const failed = i.verdicts.filter((v) => v.valid === false);
  const inconclusive = i.verdicts.filter((v) => v.inconclusive);
  const base = { name: i.name, ...(i.stack ? { stack: i.stack } : {}), file: i.file, tags: i.tags, iteration: i.iteration, seed: i.seed, dir: i.dir, verdicts: i.verdicts, durationMs: i.durationMs };
  const kf = i.knownFailure;
  const explanation = kf && explainFindings(kf, i.verdicts, i.explainContext);
  const known: KnownResult | undefined = kf && explanation && {
    bugs: kf.bugs,
    intermittent: kf.intermittent ?? false,
    description: kf.bugs.map(describeBug).join(', '),
    hit: [...new Set(explanation.explained.map((f) => f.bug))].map(describeBug).join(', '),
    ...explanation,
  };
  const withOutcome = (status: CaseStatus, message?: string): CaseResult => ({
    ...base,
    status,
    ...(message !== undefined ? { message } : {}),
    outcome: caseOutcome(status, known),
    ...(known ? { known } : {}),
  });
  const tail = `case dir: ${i.dir}`;
  if (failed.length) {
    const before = i.lastEvents.map((e) => `  +${(e.ms / 1000).toFixed(1)}s ${e.type} ${String(e.what ?? e.check ?? e.fault ?? e.event ?? '')}`);
    const byCheck = [...new Set(failed.map((v) => v.check))].map((c) => {
      const n = failed.filter((v) => v.check === c).reduce((a, v) => a + v.findings.length, 0);
      return `${c} (${n} finding${n === 1 ? '' : 's'})`;
    });
    const head = `violated: ${byCheck.join(', ')}; every finding in findings.json and the run's report.html`;
    const message = `${known ? knownLines(known) : ''}${head}\n${failed.map(failureLine).join('\n')}${i.infra ? `\nalso: ${i.infra}` : ''}\nlast events (history.jsonl):\n${before.join('\n')}\n${tail}`;
    // cmirrord assumes a node that leaves the ring was fenced: findings after one came back unfenced judge the
    // environment (a starved host), not the log. They are kept in findings.json and not counted.
    if (i.outOfModel && caseOutcome('failed', known) === 'failed') {
      return { ...withOutcome('infra', `out of the model, not a finding: ${i.outOfModel}\n${message}`), outOfModel: i.outOfModel };
    }
    return withOutcome('failed', message);
  }
  if (i.infra) return withOutcome('infra', `infrastructure: ${i.infra}\n${tail}`);
  if (inconclusive.length) return withOutcome('inconclusive', `${inconclusive.map(inconclusiveLine).join('\n')}\n${tail}`);
  return withOutcome('passed');
}

/** Every finding of every failed check, as findings.json holds them. */
export function findingsOf(verdicts: readonly NamedVerdict[]) {
  return verdicts.filter((v) => v.valid === false).flatMap((v) => v.findings.map((f) => ({ check: v.check, point: v.point, invariant: v.invariant, ...f })));
}

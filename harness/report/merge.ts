/**
 * Merging the JSON summaries of several shards (or runs) into one. JSON is the input
 * because it carries every case's status; the merged JUnit is written from it.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../base/errors.ts';
import { OUTCOMES, type Outcome } from '../case/outcome.ts';
import type { CaseResult } from '../judge/result.ts';
import { tally, type Tally } from './junit.ts';

export interface SummaryCase {
  name: string;
  stack?: string;
  file: string;
  iteration: number;
  seed: number;
  status: CaseResult['status'];
  outcome: Outcome;
  known: CaseResult['known'] | null;
  durationMs: number;
  dir: string;
  message: string | null;
  tags?: string[];
  replay?: string;
  verdicts?: Array<{ check: string; valid: unknown }>;
  [more: string]: unknown;
}

export interface Summary extends Tally {
  runDir?: string;
  runDirs?: string[];
  cases: SummaryCase[];
}

const KNOWN_OUTCOMES: ReadonlySet<string> = new Set(OUTCOMES);

export function parseSummary(text: string, file: string): Summary {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${file}: not JSON (${(err as Error).message})`);
  }
  const cases = (data as { cases?: unknown }).cases;
  if (!Array.isArray(cases)) throw new InputError(`${file}: not a clogtest JSON summary (no "cases" list)`);
  cases.forEach((c, i) => {
    const sc = c as Partial<SummaryCase>;
    if (typeof sc.name !== 'string' || !KNOWN_OUTCOMES.has(sc.outcome as string)) {
      throw new InputError(`${file}: case ${i + 1} has no name or no outcome ${OUTCOMES.join('/')}`);
    }
  });
  return data as Summary;
}

/** Cases in the order given (shard 1's, then shard 2's, ...); the counts are recomputed, never added up. */
export function mergeSummaries(summaries: readonly Summary[]): Summary {
  const cases = summaries.flatMap((s) => s.cases);
  const runDirs = summaries.flatMap((s) => s.runDirs ?? (s.runDir ? [s.runDir] : []));
  const counts = tally(cases.map((c) => c.outcome));
  return { ...counts, runDirs, cases };
}

/** What junitXml needs of a case; the per-check verdicts stay in the shard reports. */
export function asCaseResults(summary: Summary): CaseResult[] {
  return summary.cases.map((c) => ({
    name: c.name,
    ...(c.stack ? { stack: c.stack } : {}),
    file: c.file,
    tags: c.tags ?? [],
    iteration: c.iteration,
    seed: c.seed,
    dir: c.dir,
    status: c.status,
    outcome: c.outcome,
    verdicts: [],
    durationMs: c.durationMs,
    ...(c.message !== null ? { message: c.message } : {}),
    ...(c.known ? { known: c.known } : {}),
  }));
}

export function loadSummaries(files: readonly string[]): Summary[] {
  return files.map((f) => {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      throw new InputError(`${f}: cannot be read`);
    }
    return parseSummary(text, f);
  });
}

/**
 * A case's coverage (the sum of what its nodes gave at each point) and a run's (its cases' in order, each line
 * naming the first case that reached it), written where the report and the next nightly read them: the
 * case's in its directory and under the run's coverage/, which outlives the directories of passing cases.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BuildCoverage } from '../stack/coverage.ts';
import { COVERAGE_DIR, COVERAGE_FILE } from '../record/layout.ts';
import { EMPTY, mergeCoverage, percent, summarize, type Coverage, type FileSummary } from './coverage.ts';
import { readCollection } from './read.ts';

export interface CaseCoverage {
  case: string;
  /** Counters that could not be collected: a node down at a point, a daemon killed or not answering. */
  lost: string[];
  coverage: Coverage;
}

export interface RunCoverage {
  /** The cases in the order they ran: the order "first reached by" follows. */
  cases: string[];
  lost: string[];
  files: FileSummary[];
  coverage: Coverage;
}

/** Beside the run's coverage.json: each case's, and the counted sources the report shows. */
const CASES_DIR = 'cases';
const SOURCES_DIR = 'src';

function subdirs(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort() : [];
}

/** The sum of every collection in the case directory. */
export async function collectedCoverage(caseDir: string, builds: readonly BuildCoverage[]): Promise<Coverage> {
  let coverage = EMPTY;
  const root = join(caseDir, COVERAGE_DIR);
  for (const point of subdirs(root)) {
    for (const node of subdirs(join(root, point))) coverage = mergeCoverage(coverage, await readCollection(join(root, point, node), builds));
  }
  return coverage;
}

/** Writes a case's coverage in its directory and under the run's. */
export function saveCaseCoverage(caseDir: string, runDir: string, c: CaseCoverage): void {
  const text = `${JSON.stringify(c)}\n`;
  for (const dir of [join(caseDir, COVERAGE_DIR), join(runDir, COVERAGE_DIR, CASES_DIR)]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(caseDir, COVERAGE_DIR, COVERAGE_FILE), text);
  writeFileSync(join(runDir, COVERAGE_DIR, CASES_DIR, `${c.case}.json`), text);
}

/** The sum of the given cases' coverage, in their order; a case that left none (it failed to run) adds nothing. */
export function runCoverage(cases: readonly CaseCoverage[]): RunCoverage {
  let coverage = EMPTY;
  for (const c of cases) coverage = mergeCoverage(coverage, c.coverage, c.case);
  return { cases: cases.map((c) => c.case), lost: cases.flatMap((c) => c.lost.map((l) => `${c.case}: ${l}`)), files: summarize(coverage), coverage };
}

export function sourcesDir(runDir: string): string {
  return join(runDir, COVERAGE_DIR, SOURCES_DIR);
}

/** Merges the run's cases (ids in run order), copies the counted sources and writes runDir/coverage/coverage.json. */
export function writeRunCoverage(runDir: string, ids: readonly string[], builds: readonly BuildCoverage[]): RunCoverage {
  const cases = ids.flatMap((id) => readCaseCoverage(runDir, id) ?? []);
  const run = runCoverage(cases);
  for (const b of builds) {
    for (const file of b.files) {
      const to = join(sourcesDir(runDir), b.component, file);
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(join(b.notesDir, file), to);
    }
  }
  writeFileSync(join(runDir, COVERAGE_DIR, COVERAGE_FILE), `${JSON.stringify(run)}\n`);
  return run;
}

/** A case's coverage as saveCaseCoverage kept it under the run, if it left any. */
export function readCaseCoverage(runDir: string, id: string): CaseCoverage | undefined {
  const f = join(runDir, COVERAGE_DIR, CASES_DIR, `${id}.json`);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as CaseCoverage) : undefined;
}

export function readRunCoverage(runDir: string): RunCoverage | undefined {
  const f = join(runDir, COVERAGE_DIR, COVERAGE_FILE);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as RunCoverage) : undefined;
}

/** One line a file: "linux/drivers/md/dm-raid1.c: lines 71.2% (412/579), branches 50.1% (…), functions 80.0% (…)". */
export function coverageLines(files: readonly FileSummary[]): string[] {
  return files.map((f) => `${f.file}: lines ${percent(f.lines)}% (${f.lines.hit}/${f.lines.total}), branches ${percent(f.branches)}% (${f.branches.hit}/${f.branches.total}), functions ${percent(f.functions)}% (${f.functions.hit}/${f.functions.total})`);
}

/** The per-file figures the JSON summary carries, for comparing nightly runs. */
export function coverageFigures(files: readonly FileSummary[]): Record<string, { lines: number; branches: number; functions: number }> {
  return Object.fromEntries(files.map((f) => [f.file, { lines: percent(f.lines), branches: percent(f.branches), functions: percent(f.functions) }]));
}

/** Writes the run's coverage (see writeRunCoverage) and says it, a line a file. */
export function finishRunCoverage(runDir: string, ids: readonly string[], builds: readonly BuildCoverage[], say: (line: string) => void): RunCoverage {
  const run = writeRunCoverage(runDir, ids, builds);
  say(`coverage of ${run.cases.length} case(s), ${join(runDir, COVERAGE_DIR, COVERAGE_FILE)}:`);
  for (const line of coverageLines(run.files)) say(`  ${line}`);
  if (run.lost.length) say(`  ${run.lost.length} collection(s) lost counters (listed in the report)`);
  return run;
}

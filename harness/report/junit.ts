/** JUnit XML and the JSON summary of a run (pure), for CI systems that read either. */
import { failsRun, type Outcome } from '../case/outcome.ts';
import { caseName, type CaseResult } from '../judge/result.ts';

export function xmlEscape(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

export function caseTitle(r: Pick<CaseResult, 'name' | 'iteration' | 'stack'>): string {
  return r.iteration > 1 ? `${caseName(r)} #${r.iteration}` : caseName(r);
}

/**
 * One testsuite, one testcase per case run. A check failure is <failure>, an infrastructure error
 * <error>, and a known failure is <skipped> naming its bugs, as JUnit has no "expected failure". A
 * known-failure case that could not be carried out is an <error> like any other: the known bug says
 * nothing about the infrastructure.
 */
export function junitXml(results: readonly CaseResult[], suite = 'clogtest'): string {
  const count = (f: (r: CaseResult) => boolean) => results.filter(f).length;
  const failures = count((r) => failsRun(r.outcome));
  const errors = count((r) => r.outcome === 'infra');
  const skipped = count((r) => r.outcome === 'known failure');
  const time = (ms: number) => (ms / 1000).toFixed(3);
  const total = results.reduce((a, r) => a + r.durationMs, 0);
  const cases = results.map((r) => {
    const open = `  <testcase classname="${xmlEscape(r.stack ? `${suite}.${r.stack}` : suite)}" name="${xmlEscape(caseTitle(r))}" file="${xmlEscape(r.file)}" time="${time(r.durationMs)}">`;
    const msg = xmlEscape(r.message ?? '');
    const first = xmlEscape((r.message ?? '').split('\n')[0] ?? '');
    let body = '';
    if (r.outcome === 'known failure') body = `\n    <skipped message="known failure: ${xmlEscape(r.known!.hit)}">${msg}</skipped>`;
    else if (r.outcome === 'failed') body = `\n    <failure message="${first}" type="check-failed">${msg}</failure>`;
    else if (r.outcome === 'inconclusive') body = `\n    <failure message="${first}" type="inconclusive">${msg}</failure>`;
    else if (r.outcome === 'infra') body = `\n    <error message="${first}" type="infrastructure">${msg}</error>`;
    const props = `\n    <system-out>seed ${r.seed}; case dir ${xmlEscape(r.dir)}</system-out>`;
    return `${open}${body}${props}\n  </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites tests="${results.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${time(total)}">`,
    `<testsuite name="${xmlEscape(suite)}" tests="${results.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${time(total)}">`,
    ...cases,
    '</testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

export interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

/** A known failure counts as skipped; every outcome that fails the run, and infra, as failed; the rest passed. */
export function tally(outcomes: readonly Outcome[]): Tally {
  const t = { passed: 0, failed: 0, skipped: 0 };
  for (const o of outcomes) {
    if (o === 'known failure') t.skipped++;
    else if (failsRun(o) || o === 'infra') t.failed++;
    else t.passed++;
  }
  return t;
}

export function summaryLine(t: Tally): string {
  return `${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`;
}

/** The command that runs this case again as it ran (extraArgs: the run's options a replay needs too). */
export function replayCommand(file: string, seed: number, extraArgs: readonly string[] = []): string {
  return ['./clogtest', 'run', ...extraArgs, '--seed', `${seed}`, file].join(' ');
}

/** replayArgs: the options the cases ran with that a replay needs too (--fixes, --nodes N). */
export function jsonSummary(runDir: string, results: readonly CaseResult[], replayArgs: readonly string[] = [], coverage?: Record<string, { lines: number; branches: number; functions: number }>): string {
  return `${JSON.stringify(
    {
      runDir,
      ...tally(results.map((r) => r.outcome)),
      // With --coverage: percent of lines, branches and functions reached, by file.
      ...(coverage ? { coverage } : {}),
      cases: results.map((r) => ({
        name: r.name,
        ...(r.stack ? { stack: r.stack } : {}),
        file: r.file,
        tags: r.tags,
        iteration: r.iteration,
        seed: r.seed,
        replay: replayCommand(r.file, r.seed, [...replayArgs, ...(r.stack ? ['--stack', r.stack] : [])]),
        status: r.status,
        outcome: r.outcome,
        known: r.known ?? null,
        durationMs: r.durationMs,
        ...(r.phases ? { phases: r.phases } : {}),
        dir: r.dir,
        message: r.message ?? null,
        verdicts: r.verdicts.map((v) => ({ check: v.check, point: v.point, valid: v.valid, inconclusive: v.inconclusive, judged: v.judged, detail: v.detail, findings: v.findings.length })),
      })),
    },
    null,
    2,
  )}\n`;
}

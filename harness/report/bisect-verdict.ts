/**
 * What one revision's runs mean to `git bisect run`: 0 good, 1 bad, 125 skip (the
 * revision cannot be tested). A check failure in any run is a real failure even when
 * other runs were untestable: the bug showed itself, and skipping would hide it.
 */
export const BISECT_EXIT = {
  good: 0,
  bad: 1,
  skip: 125,
  /** git bisect run stops on 128 and above: for errors no revision can fix (bad options, missing tools). */
  abort: 128,
} as const;

export interface RunOutcome {
  case: string;
  /** An inconclusive run (a check the case lists judged nothing) tested nothing at this revision: untestable. */
  status: 'passed' | 'failed' | 'inconclusive' | 'infra';
  /** Checks that returned false. */
  failedChecks: string[];
  /** One line: why it failed, or why it could not be tested. */
  why?: string;
}

export interface BisectVerdict {
  exit: number;
  summary: string;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function bisectVerdict(runs: readonly RunOutcome[]): BisectVerdict {
  const total = runs.length;
  const failed = runs.filter((r) => r.status === 'failed');
  const infra = runs.filter((r) => r.status === 'infra' || r.status === 'inconclusive');
  if (total === 0) return { exit: BISECT_EXIT.skip, summary: 'skip: no run was made' };
  if (failed.length) {
    const checks = [...new Set(failed.flatMap((r) => r.failedChecks))];
    const what = checks.length ? checks.join(', ') : 'a check';
    const untestable = infra.length ? `; ${infra.length} untestable` : '';
    return { exit: BISECT_EXIT.bad, summary: `bad: ${failed.length}/${total} runs failed ${what}${untestable}` };
  }
  if (infra.length) {
    const why = infra[0]!.why ? ` (${infra[0]!.why})` : '';
    return { exit: BISECT_EXIT.skip, summary: `skip: ${infra.length}/${total} runs could not be carried out${why}` };
  }
  return { exit: BISECT_EXIT.good, summary: `good: ${plural(total, 'run')} passed` };
}

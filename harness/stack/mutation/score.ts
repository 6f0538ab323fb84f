/** What planting one defect came to, and the corpus's score line (pure). */
import type { CheckName } from '../../case/schema.ts';
import type { Side } from './corpus.ts';

export interface DefectOutcome {
  defect: string;
  side: Side;
  request: string;
  expect: CheckName[];
  /** caught: a case failed a check; missed: every case passed; undecided: a build, a run or a check could not decide. */
  result: 'caught' | 'missed' | 'undecided';
  caughtBy?: string;
  /** The checks that failed in the case that caught it. */
  fired: CheckName[];
  why?: string;
  dir?: string;
  durationMs: number;
  /** The outcome as printed. */
  line: string;
}

function minutes(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

export function scoreLine(outcomes: readonly Pick<DefectOutcome, 'result'>[], durationMs: number): string {
  const n = (r: DefectOutcome['result']) => outcomes.filter((o) => o.result === r).length;
  return `mutation score: ${n('caught')}/${outcomes.length} caught, ${n('missed')} missed, ${n('undecided')} undecided (${minutes(durationMs)})`;
}

/** What a case comes to: its status from its verdicts, and its outcome once its known failure is weighed (pure). */
/**
 * passed: every check held and every listed check judged something; failed: a check found a violation;
 * inconclusive: nothing failed, but a listed check judged nothing or could not judge (a silent pass is no
 * pass); infra: the case could not be carried out.
 */
export const CASE_STATUSES = ['passed', 'failed', 'inconclusive', 'infra'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

/**
 * passed; failed (a finding no known bug explains, or nothing known expected); known failure (every finding of
 * every failed check is one of the case's known bugs); known failure not hit (an intermittent one passed);
 * unexpectedly passed (a known failure that shows every time did not); inconclusive; infra.
 */
export const OUTCOMES = ['passed', 'failed', 'known failure', 'known failure not hit', 'unexpectedly passed', 'inconclusive', 'infra'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** The one place a case's status and known failure become its outcome. */
export function caseOutcome(status: CaseStatus, known: { intermittent: boolean; explained: readonly unknown[]; unexplained: readonly unknown[] } | undefined): Outcome {
  if (status === 'failed') return known && known.unexplained.length === 0 && known.explained.length > 0 ? 'known failure' : 'failed';
  if (status === 'passed') return !known ? 'passed' : known.intermittent ? 'known failure not hit' : 'unexpectedly passed';
  return status;
}

/** Outcomes that make a run fail (exit 1): a check failed with findings no known bug explains, or judged nothing. */
export function failsRun(o: Outcome): boolean {
  return o === 'failed' || o === 'inconclusive';
}


/** What every oracle check returns, and the wrapper that turns a crashing check into 'unknown'. */

export type Validity = true | false | 'unknown';

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
  /** The whole finding as one line. */
  message: string;
}

export interface Verdict {
  valid: Validity;
  invariant: string;
  detail: string;
  findings: Finding[];
}

/** Findings past this many are counted, not listed, so one broken disk cannot drown the report. */
export const MAX_FINDINGS = 50;

export function verdictFrom(invariant: string, findings: Finding[], okDetail: string, scanned: string): Verdict {
  if (findings.length === 0) return { valid: true, invariant, detail: okDetail, findings };
  const shown = findings.slice(0, MAX_FINDINGS);
  const more = findings.length - shown.length;
  const lines = shown.map((f) => f.message);
  if (more > 0) lines.push(`... and ${more} more`);
  return {
    valid: false,
    invariant,
    detail: `${findings.length} violation${findings.length === 1 ? '' : 's'} ${scanned}:\n${lines.join('\n')}`,
    findings: shown,
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
    const why = err instanceof Error ? err.message : String(err);
    return { valid: 'unknown', invariant, detail: `check could not run: ${why}`, findings: [] };
  }
}

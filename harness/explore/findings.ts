/**
 * What an explore run found, told apart (pure): each failure is a known bug's, one seen before in this run,
 * or new. Known failures group by the bugs that explain them, the others by signature.
 */
import type { Classification } from './signature.ts';

export type Novelty = 'known' | 'seen' | 'new';

export interface FoundFailure {
  slug: string;
  signature: string;
  known?: number[];
  /** Scenarios that failed this way. */
  count: number;
  firstSeed: number;
  /** The case file of the first scenario that failed this way. */
  firstScenario: string;
  /** The case directories of the failing scenarios. */
  dirs: string[];
  /** The shrunk case, once shrinking ran. */
  minimal?: { file: string; steps: number; runs: number; durationMs: number; cutShort: boolean };
}

export class FindingsLog {
  readonly failures: FoundFailure[] = [];

  /** A known failure groups with earlier ones of the same bugs; any other with earlier ones of the same signature. */
  record(c: Classification, seed: number, scenarioFile: string, dir: string): Novelty {
    const group = c.known ? c.slug : c.signature;
    const earlier = this.failures.find((f) => (f.known ? f.slug : f.signature) === group);
    if (earlier) {
      earlier.count++;
      earlier.dirs.push(dir);
      return c.known ? 'known' : 'seen';
    }
    this.failures.push({ slug: c.slug, signature: c.signature, ...(c.known ? { known: c.known } : {}), count: 1, firstSeed: seed, firstScenario: scenarioFile, dirs: [dir] });
    return c.known ? 'known' : 'new';
  }

  /** The known bugs found, each once. */
  knownBugs(): number[] {
    return [...new Set(this.failures.flatMap((f) => f.known ?? []))].sort((a, b) => a - b);
  }

  newFailures(): FoundFailure[] {
    return this.failures.filter((f) => !f.known);
  }

  /** "2 new, 3 known (bugs 1, 4, 7)". */
  line(): string {
    const bugs = this.knownBugs();
    const known = this.failures.filter((f) => f.known).length;
    return `${this.newFailures().length} new, ${known} known${bugs.length ? ` (bug${bugs.length > 1 ? 's' : ''} ${bugs.join(', ')})` : ''}`;
  }
}

/**
 * Whether a rerun failed the way the failure being shrunk did: a known failure when it shares a bug with it,
 * any other when it is no known bug's and shares a finding key with it (a rerun may add or miss a finding).
 */
export function sameFailure(original: Pick<Classification, 'known' | 'signature'>, now: Pick<Classification, 'known' | 'signature'> | undefined): boolean {
  if (!now) return false;
  if (original.known) return !!now.known && now.known.some((b) => original.known!.includes(b));
  if (now.known) return false;
  const keys = new Set(original.signature.split(' '));
  return now.signature.split(' ').some((k) => keys.has(k));
}

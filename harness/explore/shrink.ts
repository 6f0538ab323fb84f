/**
 * Delta debugging for a failing scenario (pure: the caller says what a smaller scenario is and whether it
 * still fails). Reductions come biggest first (drop half the removable steps, then each one, then smaller
 * numbers), and the first one that still fails is kept and the search starts again from it, until no
 * reduction fails: the result is 1-minimal for the reductions offered. Timing decides some bugs, so a
 * reduction is tried up to `tries` times and kept on its first failure.
 */

export interface ShrinkOptions<T> {
  /** Smaller variants of a scenario, biggest cut first; each must be a valid scenario. */
  reductions(s: T): T[];
  /** Runs the scenario once: true when it fails with the same signature. */
  fails(s: T): Promise<boolean>;
  /** Runs per reduction before it is given up (default 3). */
  tries?: number;
  /** Stops trying further reductions once this returns true (a time budget); the best so far is returned. */
  stop?: () => boolean;
  /** Called with each reduction kept. */
  kept?: (s: T, runs: number) => void;
}

export interface ShrinkResult<T> {
  scenario: T;
  /** Runs made, failing or not. */
  runs: number;
  /** Reductions kept. */
  steps: number;
  /** The budget ran out before the search did. */
  cutShort: boolean;
}

export async function shrink<T>(start: T, o: ShrinkOptions<T>): Promise<ShrinkResult<T>> {
  const tries = o.tries ?? 3;
  let current = start;
  let runs = 0;
  let steps = 0;
  for (;;) {
    let progressed = false;
    for (const candidate of o.reductions(current)) {
      if (o.stop?.()) return { scenario: current, runs, steps, cutShort: true };
      let failed = false;
      for (let i = 0; i < tries && !failed; i++) {
        // Each try of a cut costs a whole run: the budget is looked at before every one, not only each cut's first.
        if (i > 0 && o.stop?.()) return { scenario: current, runs, steps, cutShort: true };
        runs++;
        failed = await o.fails(candidate);
      }
      if (failed) {
        current = candidate;
        steps++;
        o.kept?.(current, runs);
        progressed = true;
        break;
      }
    }
    if (!progressed) return { scenario: current, runs, steps, cutShort: false };
  }
}

/**
 * The subsets delta debugging tries for a list, biggest cut first: each half removed, then each quarter, down
 * to each single item. Items `keep` says stay are never removed.
 */
export function removals<E>(items: readonly E[], keep: (e: E, i: number) => boolean = () => false): E[][] {
  const removable = items.map((_, i) => i).filter((i) => !keep(items[i]!, i));
  const out: E[][] = [];
  const seen = new Set<string>();
  for (let chunks = 2; ; chunks *= 2) {
    const size = Math.ceil(removable.length / chunks);
    if (size < 1) break;
    for (let c = 0; c * size < removable.length; c++) {
      const drop = new Set(removable.slice(c * size, (c + 1) * size));
      const key = [...drop].join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(items.filter((_, i) => !drop.has(i)));
    }
    if (size === 1) break;
  }
  return out;
}

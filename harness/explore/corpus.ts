/**
 * The coverage-guided corpus of `explore --coverage` (pure): a scenario that reached a line no earlier one
 * reached is kept, and later scenarios are, half the time, mutations of a kept one, as a fuzzer keeps and
 * mutates the inputs that found new paths.
 */
import type { Coverage } from '../coverage/coverage.ts';
import type { Scenario } from './scenario.ts';

export class Corpus {
  private readonly reached = new Set<string>();
  readonly kept: Scenario[] = [];

  /** Counts the lines `coverage` reached that no earlier scenario did, and keeps `s` when there is one. */
  offer(s: Scenario, coverage: Coverage): number {
    let fresh = 0;
    for (const [file, f] of Object.entries(coverage.files)) {
      for (const [line, count] of Object.entries(f.lines)) {
        const key = `${file}:${line}`;
        if (count > 0 && !this.reached.has(key)) {
          this.reached.add(key);
          fresh++;
        }
      }
    }
    if (fresh > 0) this.kept.push(s);
    return fresh;
  }

  /** Lines reached so far. */
  get lines(): number {
    return this.reached.size;
  }

  /** A kept scenario to mutate when `x` (uniform in [0, 1)) falls in the lower half and one is kept; else none. */
  parent(x: number): Scenario | undefined {
    if (!this.kept.length || x >= 0.5) return undefined;
    return this.kept[Math.floor(x * 2 * this.kept.length)];
  }
}

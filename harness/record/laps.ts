/** A stopwatch for the parts of a phase: where the time goes, measured before anything is cut. */
export interface Laps {
  /** Ends the part under way as `part`: the time since the last lap (or since the laps began). */
  lap(part: string): void;
  /** Each part's milliseconds, in the order they ran. */
  readonly parts: Record<string, number>;
}

export function startLaps(now: () => number = Date.now): Laps {
  const parts: Record<string, number> = {};
  let mark = now();
  return {
    parts,
    lap(part) {
      const t = now();
      parts[part] = t - mark;
      mark = t;
    },
  };
}

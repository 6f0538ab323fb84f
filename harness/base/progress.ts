/** One line per stage on stderr, so stdout stays clean for TAP and machine output. */
export interface Progress {
  (line: string): void;
}

export const progress: Progress = (line) => {
  process.stderr.write(`clogtest: ${line}\n`);
};

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Times one stage and reports "<name> ... done in Xs" (or failed in Xs). */
export async function stage<T>(name: string, body: () => Promise<T>, say: Progress = progress): Promise<T> {
  const start = Date.now();
  say(`${name} ...`);
  try {
    const value = await body();
    say(`${name} done in ${seconds(Date.now() - start)}`);
    return value;
  } catch (err) {
    say(`${name} failed after ${seconds(Date.now() - start)}`);
    throw err;
  }
}

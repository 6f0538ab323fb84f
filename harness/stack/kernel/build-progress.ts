/**
 * How far a kernel build is: kbuild prints one line per step ("  CC      mm/filemap.o"), so the log's
 * count of them, against the count in the newest cached build's log (same tree and config, give or
 * take a patch), is the share done. Said every interval on the progress line, with the time so far.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { seconds, type Progress } from '../../base/progress.ts';

const STEP_RE = /^ {2}(CC|AS|LD|AR|HOSTCC|HOSTLD|GEN|OBJCOPY|VOFFSET|ZOFFSET|MKPIGGY|LZ4|XZKERN|BUILD)\b/gm;

/** kbuild steps in a build log so far. */
export function countBuildSteps(log: string): number {
  return log.match(STEP_RE)?.length ?? 0;
}

/** Steps of the newest finished build under kernelsDir, or undefined when there is none. */
export function lastBuildSteps(kernelsDir: string): number | undefined {
  if (!existsSync(kernelsDir)) return undefined;
  const logs = readdirSync(kernelsDir)
    .map((d) => join(kernelsDir, d, 'build.log'))
    .filter((f) => existsSync(f) && existsSync(join(f, '..', 'bzImage')))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return logs.length ? countBuildSteps(readFileSync(logs[0]!, 'utf8')) || undefined : undefined;
}

/** "1234 of about 1845 steps (67 %), 4 min 12 s" or, with nothing to compare with, "1234 steps, 4 min 12 s". */
export function describeBuildProgress(done: number, expected: number | undefined, elapsedMs: number): string {
  const share = expected ? ` of about ${expected} steps (${Math.min(99, Math.floor((100 * done) / expected))} %)` : ' steps';
  return `${done}${share}, ${seconds(elapsedMs)} so far`;
}

/** Says how far the build writing logFile is every intervalMs until the returned stop is called. */
export function reportBuildProgress(logFile: string, expected: number | undefined, say: Progress, intervalMs = 30_000): () => void {
  const started = Date.now();
  const timer = setInterval(() => {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    say(`build bzImage: ${describeBuildProgress(countBuildSteps(log), expected, Date.now() - started)}`);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

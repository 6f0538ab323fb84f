/**
 * Content-addressed build cache. A key is the hash of labelled inputs; an entry is
 * a directory that appears atomically (built under a temporary name, then renamed),
 * so an interrupted build never looks like a hit.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheRoot } from '../base/paths.ts';
import { InfraError, InputError } from '../base/errors.ts';
import { HostCommandError, isAlive } from '../base/proc.ts';

export type KeyPart = readonly [label: string, value: string | Buffer];

/** What every build step (kernel, rootfs, cmirrord, image) hands back for its cache entry. */
export interface Built {
  key: string;
  dir: string;
  /** False when this call built it. */
  cached: boolean;
}

/** Labels are hashed with the values so that moving bytes from one input to another changes the key. */
export function cacheKey(parts: readonly KeyPart[]): string {
  const h = createHash('sha256');
  for (const [label, value] of parts) {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    h.update(`${label}\0${bytes.length}\0`);
    h.update(bytes);
  }
  return h.digest('hex').slice(0, 24);
}

export function sha256(bytes: string | Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Removes the staging directories in `kindDir` whose process is gone: what a failed or
 * interrupted build left behind. A live process's staging directory is its build in progress.
 */
export function sweepStaging(kindDir: string): void {
  if (!existsSync(kindDir)) return;
  for (const name of readdirSync(kindDir)) {
    const pid = /\.tmp-(\d+)$/.exec(name)?.[1];
    if (pid !== undefined && !isAlive(Number(pid))) rmSync(join(kindDir, name), { recursive: true, force: true });
  }
}

export class CacheEntry {
  readonly dir: string;
  constructor(
    readonly kind: string,
    readonly key: string,
  ) {
    this.dir = join(cacheRoot(), kind, key);
  }

  /** Present only once complete: metadata.json is written last, inside the temporary directory. */
  isComplete(): boolean {
    return existsSync(join(this.dir, 'metadata.json'));
  }

  metadata<T>(): T {
    return JSON.parse(readFileSync(join(this.dir, 'metadata.json'), 'utf8')) as T;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** A fresh staging directory next to the entry; publish() moves it into place. */
  stage(): string {
    sweepStaging(dirname(this.dir));
    const staging = `${this.dir}.tmp-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    return staging;
  }

  /** Moves staging into place with its metadata.json; `startedMs` (when the build began) adds how long it took and when. */
  publish(staging: string, metadata: object, startedMs?: number): void {
    const when = { ...(startedMs === undefined ? {} : { buildSeconds: Math.round((Date.now() - startedMs) / 1000) }), builtAt: new Date().toISOString() };
    writeFileSync(join(staging, 'metadata.json'), `${JSON.stringify({ ...metadata, ...when }, null, 2)}\n`);
    rmSync(this.dir, { recursive: true, force: true });
    renameSync(staging, this.dir);
  }
}

/**
 * One build at a time per cache: two processes building the same entry would delete
 * each other's scratch trees. Builds are CPU-bound on a small machine anyway, so one
 * lock for the whole cache costs little. A lock whose process is gone is taken over.
 */
/** Scratch trees of the build in progress (cacheRoot()/work/KIND-KEY), outside every cache entry. */
export const WORK_DIR = 'work';

export async function withBuildLock<T>(what: string, say: (line: string) => void, body: () => Promise<T>): Promise<T> {
  mkdirSync(cacheRoot(), { recursive: true });
  const lock = join(cacheRoot(), 'build.lock');
  let told = false;
  for (;;) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(readFileSync(lock, 'utf8'), 10);
      if (!Number.isFinite(holder) || !isAlive(holder)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (!told) say(`waiting for process ${holder}, which is building in ${cacheRoot()}, before building ${what}`);
      told = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  // A build stopped by a signal never reaches the finally that removes its scratch tree (a kernel's is
  // gigabytes); while this process holds the lock no other build is using one, so every tree there is such a leftover.
  rmSync(join(cacheRoot(), WORK_DIR), { recursive: true, force: true });
  try {
    return await body();
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * What a failed build throws, for every builder alike: a bad input leaves nothing worth reading (its staging
 * directory goes); a failed command is named with where its full log is, what `detail` finds in that log (a
 * compiler's first errors, say) and how the command ended; anything else as it was thrown.
 */
export function buildFailure(err: unknown, what: string, staging: string, log: string, detail: (log: string) => string = () => ''): unknown {
  if (err instanceof InputError) rmSync(staging, { recursive: true, force: true });
  if (err instanceof HostCommandError && existsSync(log)) {
    return new InfraError(`${what} build failed (${err.command.split(' ')[0]} ...); full log: ${log}\n${detail(log)}${err.result.tail.join('\n')}`, { cause: err });
  }
  return err;
}

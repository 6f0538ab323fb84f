/**
 * The Debian root filesystem, debootstrapped once per package list and kept as a
 * cache entry of its own: it is the slow, network-bound part of an image and changes
 * far less often than the guest files or the daemon.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CacheEntry, cacheKey, type Built } from '../cache.ts';
import { InfraError } from '../../base/errors.ts';
import { HostCommandError, run } from '../../base/proc.ts';
import { cacheRoot } from '../../base/paths.ts';
import { stage, type Progress } from '../../base/progress.ts';

export const SUITE = 'bookworm';
export const MIRROR = 'http://deb.debian.org/debian';
/** Bump when the debootstrap invocation changes what it produces. */
const ROOTFS_RECIPE = '1';

/** `dir` is the unpacked tree; shared by every image built from it, so copy before changing it. */
export interface Rootfs extends Built {
  log: string;
}

export function rootfsKey(packages: readonly string[]): string {
  return cacheKey([
    ['recipe', ROOTFS_RECIPE],
    ['suite', SUITE],
    ['mirror', MIRROR],
    ['packages', [...packages].sort().join('\n')],
  ]);
}

export async function ensureRootfs(packages: readonly string[], say: Progress, force = false): Promise<Rootfs> {
  const key = rootfsKey(packages);
  const entry = new CacheEntry('rootfs', key);
  const dir = entry.path('root');
  const log = entry.path('build.log');
  if (entry.isComplete() && !force) return { key, dir, log, cached: true };
  await stage(`debootstrap ${SUITE} (${packages.length} extra packages)`, async () => {
    const staging = entry.stage();
    const stagingLog = join(staging, 'build.log');
    const debs = join(cacheRoot(), 'debs');
    mkdirSync(debs, { recursive: true });
    await run(
      'debootstrap',
      [
        '--variant=minbase',
        // Downloaded .debs are kept across rebuilds, so a package-list edit does not refetch everything.
        `--cache-dir=${debs}`,
        `--include=${packages.join(',')}`,
        SUITE,
        join(staging, 'root'),
        MIRROR,
      ],
      { logFile: stagingLog, timeoutMs: 30 * 60_000 },
    ).catch((err: unknown) => {
      if (err instanceof HostCommandError) {
        throw new InfraError(`debootstrap failed; full log: ${stagingLog}\n${err.result.tail.join('\n')}`);
      }
      throw err;
    });
    entry.publish(staging, { key, suite: SUITE, mirror: MIRROR, packages });
  }, say);
  return { key, dir, log, cached: false };
}

/** Where the kernel source comes from and what identifies it for the cache. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CacheEntry, sha256 } from '../cache.ts';
import { InputError, InfraError } from '../errors.ts';
import { run } from '../proc.ts';
import { stage, type Progress } from '../progress.ts';

export const DEBIAN_TARBALL = '/usr/src/linux-source-6.1.tar.xz';
const DEBIAN_PACKAGE = 'linux-source-6.1';

export interface KernelSource {
  /** Tree to copy and build from; never written to. */
  dir: string;
  /** Goes into the cache key: the same identity means the same source bytes. */
  identity: string;
  description: string;
  /** Makes dir exist; only a build needs it, a cache hit never pays for it. */
  prepare(): Promise<void>;
}

/** Debian's tarball, unpacked once per package version into the cache and shared read-only. */
export async function debianSource(say: Progress): Promise<KernelSource> {
  if (!existsSync(DEBIAN_TARBALL)) throw new InfraError(`missing ${DEBIAN_TARBALL} (package ${DEBIAN_PACKAGE}): run \`make setup\``);
  const version = (await run('dpkg-query', ['-W', '-f=${Version}', DEBIAN_PACKAGE])).stdout.trim();
  const identity = `debian:${DEBIAN_PACKAGE}=${version}`;
  const entry = new CacheEntry('sources', `${DEBIAN_PACKAGE}-${version}`);
  return {
    dir: entry.path(DEBIAN_PACKAGE),
    identity,
    description: `Debian ${DEBIAN_PACKAGE} ${version}`,
    async prepare() {
      if (entry.isComplete()) return;
      await stage(`extract ${DEBIAN_TARBALL}`, async () => {
        const staging = entry.stage();
        await run('tar', ['-xf', DEBIAN_TARBALL, '-C', staging], { timeoutMs: 20 * 60_000 });
        entry.publish(staging, { identity, tarball: DEBIAN_TARBALL });
      }, say);
    },
  };
}

/**
 * A developer's git tree, as it is now: HEAD plus uncommitted changes to tracked
 * files, so a bisect step or an edit-and-rerun both get a new key.
 */
export async function gitTreeSource(path: string): Promise<KernelSource> {
  const dir = resolve(path);
  if (!existsSync(join(dir, 'Makefile')) || !existsSync(join(dir, 'Kconfig'))) {
    throw new InputError(`--kernel-tree ${path}: not a kernel source tree (no Makefile and Kconfig)`);
  }
  const head = await run('git', ['-C', dir, 'rev-parse', 'HEAD'], { allowFailure: true });
  if (head.exitCode !== 0) throw new InputError(`--kernel-tree ${path}: not a git checkout (git rev-parse HEAD failed)`);
  const diff = await run('git', ['-C', dir, 'diff', '--binary', 'HEAD'], { allowFailure: true });
  const rev = head.stdout.trim();
  const dirty = diff.stdout.length > 0;
  return {
    dir,
    identity: `git:${rev}:${sha256(diff.stdout)}`,
    description: `${dir} at ${rev.slice(0, 12)}${dirty ? ' with uncommitted changes' : ''}`,
    prepare: async () => {},
  };
}

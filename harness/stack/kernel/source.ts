/** Where the kernel source comes from and what identifies it for the cache. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CacheEntry, sha256 } from '../cache.ts';
import { InputError } from '../../base/errors.ts';
import { fetchKernelTarball, fetchSourcePackage } from '../host/debian-archive.ts';
import { kernelPackageName, type Stack } from '../stacks.ts';
import { run } from '../../base/proc.ts';
import { stage, type Progress } from '../../base/progress.ts';

export interface KernelSource {
  /** Tree to copy and build from; never written to. */
  dir: string;
  /** Goes into the cache key: the same identity means the same source bytes. */
  identity: string;
  description: string;
  /** Makes dir exist; only a build needs it, a cache hit never pays for it. */
  prepare(): Promise<void>;
}

/**
 * A stack's pinned Debian kernel source, fetched and unpacked once per version into the cache and shared
 * read-only. The identity is the package and version (Debian never reuses a version in its archive),
 * with the .dsc checksum for a source package.
 */
export function debianSource(pin: Stack['kernel'], say: Progress): KernelSource {
  const name = kernelPackageName(pin);
  const identity = pin.kind === 'package' ? `debian:${pin.package}=${pin.version}` : `debian:${pin.source}_${pin.version}.dsc:SHA256:${pin.dscSha256}`;
  const entry = new CacheEntry('sources', `${name}-${pin.version}`);
  return {
    dir: entry.path(name),
    identity,
    description: `Debian ${name} ${pin.version}`,
    async prepare() {
      if (entry.isComplete()) return;
      await stage(`fetch and unpack ${name} ${pin.version}`, async () => {
        const staging = entry.stage();
        const log = join(staging, 'fetch.log');
        if (pin.kind === 'package') await fetchKernelTarball(pin, staging, log);
        else await fetchSourcePackage(pin, staging, log);
        entry.publish(staging, { identity, pin });
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

/** Where cmirrord's source comes from, what identifies it for the cache, and how to get a scratch copy. */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CacheEntry, sha256 } from '../cache.ts';
import { InputError } from '../../base/errors.ts';
import { fetchSourcePackage } from '../host/debian-archive.ts';
import type { SourcePackagePin } from '../stacks.ts';
import { run } from '../../base/proc.ts';
import { stage, type Progress } from '../../base/progress.ts';

export interface Lvm2Source {
  /** Goes into the cache key: the same identity means the same source bytes. */
  identity: string;
  description: string;
  /** Writes a fresh, writable copy of the tree into `to`; the original is never touched. */
  copyTo(to: string, logFile: string): Promise<void>;
}

/**
 * A stack's pinned lvm2 source package, unpacked (with Debian's patches) once per version into the cache.
 * The identity is the one apt's .dsc checksum gives, read from the pin: planning a build asks apt nothing.
 */
export function debianLvm2Source(pin: SourcePackagePin, say: Progress): Lvm2Source {
  const identity = `debian:lvm2_${pin.version}.dsc:SHA256:${pin.dscSha256}`;
  const entry = new CacheEntry('sources', `lvm2-${pin.version}`);
  const tree = entry.path('lvm2');
  return {
    identity,
    description: `Debian lvm2 ${pin.version}`,
    async copyTo(to, logFile) {
      if (!entry.isComplete()) {
        await stage(`fetch lvm2 ${pin.version} source`, async () => {
          const staging = entry.stage();
          await fetchSourcePackage(pin, staging, logFile);
          entry.publish(staging, { identity, version: pin.version });
        }, say);
      }
      await copyTree(tree, to);
    },
  };
}

async function copyTree(from: string, to: string): Promise<void> {
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  const entries = readdirSync(from).filter((e) => e !== '.git');
  await run('cp', ['-a', ...entries.map((e) => join(from, e)), to]);
}

/**
 * A developer's lvm2 git checkout as it is now: HEAD plus uncommitted changes to
 * tracked files. The copy is rebuilt from exactly those bytes (git archive + the
 * diff), so untracked files and in-tree build output never leak into the build.
 */
export async function gitLvm2Source(path: string): Promise<Lvm2Source> {
  const dir = resolve(path);
  if (!existsSync(join(dir, 'daemons', 'cmirrord')) || !existsSync(join(dir, 'configure'))) {
    throw new InputError(`--daemon-tree ${path}: not an lvm2 source tree (no configure and daemons/cmirrord)`);
  }
  const head = await run('git', ['-C', dir, 'rev-parse', 'HEAD'], { allowFailure: true });
  if (head.exitCode !== 0) throw new InputError(`--daemon-tree ${path}: not a git checkout (git rev-parse HEAD failed)`);
  const rev = head.stdout.trim();
  const diff = (await run('git', ['-C', dir, 'diff', '--binary', 'HEAD'])).stdout;
  return {
    identity: `git:${rev}:${sha256(diff)}`,
    description: `${dir} at ${rev.slice(0, 12)}${diff.length ? ' with uncommitted changes' : ''}`,
    async copyTo(to, logFile) {
      rmSync(to, { recursive: true, force: true });
      mkdirSync(to, { recursive: true });
      const tar = `${to}.tar`;
      try {
        await run('git', ['-C', dir, 'archive', '--format=tar', '-o', tar, rev], { logFile });
        await run('tar', ['-xf', tar, '-C', to], { logFile });
      } finally {
        rmSync(tar, { force: true });
      }
      if (diff.length) await run('git', ['apply', '--whitespace=nowarn', '-'], { cwd: to, input: `${diff}\n`, logFile });
    },
  };
}

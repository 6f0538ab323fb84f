/** Where cmirrord's source comes from, what identifies it for the cache, and how to get a scratch copy. */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CacheEntry, sha256 } from '../cache.ts';
import { InfraError, InputError } from '../errors.ts';
import { run } from '../proc.ts';
import { stage, type Progress } from '../progress.ts';

export interface Lvm2Source {
  /** Goes into the cache key: the same identity means the same source bytes. */
  identity: string;
  description: string;
  /** Writes a fresh, writable copy of the tree into `to`; the original is never touched. */
  copyTo(to: string, logFile: string): Promise<void>;
}

/** Each lvm2 source stanza apt knows: version and the SHA-256 of its .dsc. */
export function parseShowsrc(text: string): { version: string; dscSha256: string }[] {
  return text
    .split(/\n\s*\n/)
    .map((stanza) => {
      const version = /^Version: (\S+)$/m.exec(stanza)?.[1];
      const sums = /^Checksums-Sha256:\n((?: .*\n?)*)/m.exec(stanza)?.[1] ?? '';
      const dsc = /^ ([0-9a-f]{64}) \d+ \S+\.dsc$/m.exec(sums)?.[1];
      return version && dsc ? { version, dscSha256: dsc } : undefined;
    })
    .filter((s): s is { version: string; dscSha256: string } => s !== undefined);
}

/**
 * The lvm2 source `apt-get source lvm2` would fetch (the highest version), named by
 * version and .dsc checksum. Read from apt's lists: no download, fast enough for a cache hit.
 */
export async function debianLvm2Candidate(): Promise<{ version: string; identity: string }> {
  const res = await run('apt-cache', ['showsrc', '--only-source', 'lvm2'], { allowFailure: true });
  const stanzas = parseShowsrc(res.stdout);
  if (res.exitCode !== 0 || stanzas.length === 0) {
    throw new InfraError('apt knows no lvm2 source package: run `make setup` (it adds a deb-src entry), then `apt-get update`');
  }
  let best = stanzas[0];
  for (const s of stanzas.slice(1)) {
    if (s.version === best.version) continue;
    const newer = await run('dpkg', ['--compare-versions', s.version, 'gt', best.version], { allowFailure: true });
    if (newer.exitCode === 0) best = s;
  }
  return { version: best.version, identity: `debian:lvm2_${best.version}.dsc:SHA256:${best.dscSha256}` };
}

/** Debian's lvm2 source package, unpacked (with Debian's patches) once per version into the cache. */
export async function debianLvm2Source(say: Progress): Promise<Lvm2Source> {
  const { version, identity } = await debianLvm2Candidate();
  const entry = new CacheEntry('sources', `lvm2-${version}`);
  const tree = entry.path('lvm2');
  return {
    identity,
    description: `Debian lvm2 ${version}`,
    async copyTo(to, logFile) {
      if (!entry.isComplete()) {
        await stage(`fetch lvm2 ${version} source`, async () => {
          const staging = entry.stage();
          await run('apt-get', ['source', '--download-only', `lvm2=${version}`], { cwd: staging, logFile, timeoutMs: 10 * 60_000 });
          await run('dpkg-source', ['-x', `lvm2_${version}.dsc`, 'lvm2'], { cwd: staging, logFile, timeoutMs: 10 * 60_000 });
          entry.publish(staging, { identity, version });
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

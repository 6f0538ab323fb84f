/**
 * Debian's archive as apt on this host reaches it: fetching a pinned package into a directory without
 * installing anything, and finding the newest version a suite serves (for `clogtest stacks update`).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InfraError } from '../../base/errors.ts';
import { requireTools, run } from '../../base/proc.ts';
import type { KernelPackagePin, SourcePackagePin } from '../stacks.ts';

const FETCH_TIMEOUT_MS = 20 * 60_000;
const UPDATE_HINT = 'run `make setup` (it adds the deb-src entries and updates apt\'s lists), or `clogtest stacks update` if the archive has moved on';

/** Debian file names leave out a version's epoch. */
function fileVersion(version: string): string {
  return version.replace(/^\d+:/, '');
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).pop() ?? '';
}

/**
 * `apt-get source` of exactly the pinned version, checked against the pin's .dsc checksum, unpacked by
 * dpkg-source (Debian's patches applied) into into/<source>. The downloaded archives are removed.
 */
export async function fetchSourcePackage(pin: SourcePackagePin, into: string, logFile?: string): Promise<string> {
  requireTools('apt-get', 'dpkg-source');
  const spec = `${pin.source}=${pin.version}`;
  const got = await run('apt-get', ['source', '--download-only', spec], { cwd: into, logFile, timeoutMs: FETCH_TIMEOUT_MS, allowFailure: true });
  if (got.exitCode !== 0) throw new InfraError(`apt-get source ${spec} failed (${lastLine(got.tail.join('\n'))}): ${UPDATE_HINT}`);
  const dsc = `${pin.source}_${fileVersion(pin.version)}.dsc`;
  const sum = createHash('sha256').update(readFileSync(join(into, dsc))).digest('hex');
  if (sum !== pin.dscSha256) throw new InfraError(`${dsc} has SHA-256 ${sum}, the stack pins ${pin.dscSha256}: ${UPDATE_HINT}`);
  await run('dpkg-source', ['-x', dsc, pin.source], { cwd: into, logFile, timeoutMs: FETCH_TIMEOUT_MS });
  // The downloads (name_version.dsc, .orig.tar.*, .debian.tar.*); a log kept in the same directory stays.
  for (const f of readdirSync(into)) if (f.startsWith(`${pin.source}_`)) rmSync(join(into, f), { force: true });
  return join(into, pin.source);
}

/**
 * The kernel source tarball a linux-source-X package carries, unpacked into into/<package>: the .deb is
 * fetched with `apt-get download` (nothing is installed on the host) and removed afterwards.
 */
export async function fetchKernelTarball(pin: KernelPackagePin, into: string, logFile?: string): Promise<string> {
  requireTools('apt-get', 'dpkg-deb', 'tar', 'xz');
  const spec = `${pin.package}=${pin.version}`;
  const deb = join(into, 'deb');
  const got = await run('apt-get', ['download', spec], { cwd: into, logFile, timeoutMs: FETCH_TIMEOUT_MS, allowFailure: true });
  if (got.exitCode !== 0) throw new InfraError(`apt-get download ${spec} failed (${lastLine(got.tail.join('\n'))}): ${UPDATE_HINT}`);
  const file = readdirSync(into).find((f) => f.endsWith('.deb'));
  if (!file) throw new InfraError(`apt-get download ${spec} left no .deb in ${into}`);
  await run('dpkg-deb', ['-x', join(into, file), deb], { logFile, timeoutMs: FETCH_TIMEOUT_MS });
  const tarball = join(deb, 'usr', 'src', `${pin.package}.tar.xz`);
  await run('tar', ['-xf', tarball, '-C', into], { logFile, timeoutMs: FETCH_TIMEOUT_MS });
  rmSync(deb, { recursive: true, force: true });
  rmSync(join(into, file), { force: true });
  return join(into, pin.package);
}

/** `apt-get --print-uris` lines: 'URI' FILE SIZE SHA256:HEX. */
export interface PrintedUri {
  uri: string;
  file: string;
  sha256?: string;
}

export function parsePrintUris(text: string): PrintedUri[] {
  return text.split('\n').flatMap((line) => {
    const m = /^'([^']+)' (\S+) \d+ (?:SHA256:([0-9a-f]{64}))?/.exec(line.trim());
    return m ? [{ uri: m[1]!, file: m[2]!, ...(m[3] ? { sha256: m[3] } : {}) }] : [];
  });
}

/** `apt-cache madison` lines of one package in one suite: its versions, newest first as apt lists them. */
export function parseMadison(text: string, suite: string): string[] {
  return text.split('\n').flatMap((line) => {
    const [, version, from] = line.split('|').map((f) => f.trim());
    return version && from && from.split(/\s+/)[1]?.split('/')[0] === suite ? [version] : [];
  });
}

async function served(uri: string): Promise<boolean> {
  const res = await fetch(uri, { method: 'HEAD', signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
  return res?.ok ?? false;
}

async function newerFirst(versions: readonly string[]): Promise<string[]> {
  // An insertion sort through dpkg's own comparison: a few versions, and Debian's ordering rules are dpkg's.
  const out: string[] = [];
  for (const v of new Set(versions)) {
    let i = 0;
    while (i < out.length && (await run('dpkg', ['--compare-versions', out[i]!, 'gt', v], { allowFailure: true })).exitCode === 0) i++;
    out.splice(i, 0, v);
  }
  return out;
}

/**
 * The first of `versions` (newest first) whose file apt-get's --print-uris names (the first that
 * `wanted` picks) the archive answers a HEAD request for, and the versions tried before it.
 */
async function firstServed(versions: readonly string[], printUris: readonly string[], name: string, wanted: (u: PrintedUri) => boolean): Promise<{ version?: string; sha256?: string; unserved: string[] }> {
  const unserved: string[] = [];
  for (const v of versions) {
    const uris = await run('apt-get', [...printUris, `${name}=${v}`], { allowFailure: true });
    const file = parsePrintUris(uris.stdout).find(wanted);
    if (file && (await served(file.uri))) return { version: v, ...(file.sha256 ? { sha256: file.sha256 } : {}), unserved };
    unserved.push(v);
  }
  return { unserved };
}

export interface Newest {
  version: string;
  dscSha256?: string;
  /** Versions apt lists above the chosen one whose files the archive does not serve. */
  unserved: string[];
}

/**
 * The newest version of a source package in a suite whose .dsc the archive serves. A mirror can list
 * versions it no longer (or does not yet) serve; those are skipped and reported, never pinned.
 */
export async function newestSource(source: string, suite: string): Promise<Newest> {
  const candidate = await run('apt-get', ['source', '--print-uris', `${source}/${suite}`], { allowFailure: true });
  const dsc = parsePrintUris(candidate.stdout).find((u) => u.file.endsWith('.dsc'));
  if (candidate.exitCode !== 0 || !dsc) throw new InfraError(`apt knows no ${source} source package in ${suite}: ${UPDATE_HINT}`);
  const top = /_([^_]+)\.dsc$/.exec(dsc.file)![1]!;
  const listed = (await run('apt-cache', ['showsrc', '--only-source', source], { allowFailure: true })).stdout;
  const versions = [...listed.matchAll(/^Version: (\S+)$/gm)].map((m) => m[1]!);
  const ordered = await newerFirst([top, ...versions]);
  // Versions above the suite's candidate are another suite's (experimental's, say).
  const { version, sha256, unserved } = await firstServed(ordered.slice(ordered.indexOf(top)), ['source', '--print-uris'], source, (u) => u.file.endsWith('.dsc') && u.sha256 !== undefined);
  if (version) return { version, dscSha256: sha256!, unserved };
  throw new InfraError(`the archive serves no ${source} source package apt lists in ${suite} (tried ${unserved.join(', ')})`);
}

/** The newest version of a binary package in a suite whose .deb the archive serves. */
export async function newestPackage(pkg: string, suite: string): Promise<Newest> {
  const madison = await run('apt-cache', ['madison', pkg], { allowFailure: true });
  const versions = await newerFirst(parseMadison(madison.stdout, suite));
  if (versions.length === 0) throw new InfraError(`apt knows no ${pkg} package in ${suite}: ${UPDATE_HINT}`);
  const { version, unserved } = await firstServed(versions, ['download', '--print-uris'], pkg, () => true);
  if (version) return { version, unserved };
  throw new InfraError(`the archive serves no ${pkg} package apt lists in ${suite} (tried ${unserved.join(', ')})`);
}

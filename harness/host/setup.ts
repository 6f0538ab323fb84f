import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InfraError } from '../errors.ts';
import { run } from '../proc.ts';
import type { Progress } from '../progress.ts';
import { DEB_SRC_ENTRY, DEB_SRC_FILE, HOST_PACKAGES } from './packages.ts';

export function hasDebSrc(sourcesDir = '/etc/apt'): boolean {
  const files = [join(sourcesDir, 'sources.list')];
  const d = join(sourcesDir, 'sources.list.d');
  if (existsSync(d)) for (const f of readdirSync(d)) files.push(join(d, f));
  return files.some((f) => {
    if (!existsSync(f)) return false;
    const text = readFileSync(f, 'utf8');
    return /^\s*deb-src\s/m.test(text) || /^\s*Types:.*\bdeb-src\b/m.test(text);
  });
}

async function missingPackages(names: readonly string[]): Promise<string[]> {
  const r = await run('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...names], { allowFailure: true });
  const installed = new Set(
    r.stdout
      .split('\n')
      .filter((l) => l.endsWith(' installed'))
      .map((l) => l.split(' ')[0]),
  );
  return names.filter((n) => !installed.has(n));
}

/** Idempotent: a second run finds nothing to do and changes nothing. */
export async function setupHost(say: Progress): Promise<{ installed: string[]; addedDebSrc: boolean }> {
  if (process.getuid?.() !== 0) throw new InfraError('clogtest setup installs Debian packages and must run as root');
  let addedDebSrc = false;
  if (!hasDebSrc()) {
    writeFileSync(DEB_SRC_FILE, DEB_SRC_ENTRY);
    addedDebSrc = true;
    say(`added deb-src entry ${DEB_SRC_FILE}`);
  }
  const missing = await missingPackages(HOST_PACKAGES.map((p) => p.name));
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  if (missing.length || addedDebSrc) {
    say('apt-get update ...');
    await run('apt-get', ['update'], { env, timeoutMs: 10 * 60_000 });
  }
  if (missing.length) {
    say(`installing ${missing.join(' ')}`);
    await run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env, timeoutMs: 30 * 60_000 });
    const still = await missingPackages(missing);
    if (still.length) throw new InfraError(`apt-get did not install: ${still.join(' ')}`);
  }
  return { installed: missing, addedDebSrc };
}

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InfraError } from '../../base/errors.ts';
import { run } from '../../base/proc.ts';
import type { Progress } from '../../base/progress.ts';
import { DEB_SRC_ENTRIES, HOST_PACKAGES } from './packages.ts';

/** unstable's codename: an entry for either covers the other. */
const ALIASES: Record<string, string> = { sid: 'unstable' };

/** The suites some deb-src entry of apt's sources covers, one-line and deb822 formats alike. */
export function debSrcSuites(sourcesDir = '/etc/apt'): Set<string> {
  const files = [join(sourcesDir, 'sources.list')];
  const d = join(sourcesDir, 'sources.list.d');
  if (existsSync(d)) for (const f of readdirSync(d)) if (/\.(list|sources)$/.test(f)) files.push(join(d, f));
  const suites = new Set<string>();
  const add = (suite: string) => suites.add(ALIASES[suite] ?? suite);
  for (const f of files) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/^\s*deb-src\s+(?:\[[^\]]*\]\s+)?\S+\s+(\S+)/gm)) add(m[1]!);
    for (const stanza of text.split(/\n\s*\n/)) {
      if (!/^\s*Types:.*\bdeb-src\b/m.test(stanza) || /^\s*Enabled:\s*no\b/im.test(stanza)) continue;
      for (const suite of /^\s*Suites:\s*(.*)$/m.exec(stanza)?.[1]?.split(/\s+/).filter(Boolean) ?? []) add(suite);
    }
  }
  return suites;
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
  const covered = debSrcSuites();
  for (const entry of DEB_SRC_ENTRIES) {
    if (entry.suites.every((s) => covered.has(s)) || existsSync(entry.file)) continue;
    writeFileSync(entry.file, entry.text);
    addedDebSrc = true;
    say(`added deb-src entry ${entry.file} (${entry.suites.join(' ')}, sources only)`);
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

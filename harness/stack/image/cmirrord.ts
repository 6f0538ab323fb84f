/**
 * cmirrord built from lvm2 source (Debian does not ship it), with the user's patches,
 * cached by everything that changes the binary. Each miss builds in a fresh scratch
 * copy: patches never touch a shared tree, and make never trusts stale objects.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cpus } from 'node:os';
import { buildFailure, CacheEntry, cacheKey, WORK_DIR, type KeyPart, type Built } from '../cache.ts';
import { InfraError } from '../../base/errors.ts';
import { run } from '../../base/proc.ts';
import { cacheRoot } from '../../base/paths.ts';
import { stage, type Progress } from '../../base/progress.ts';
import { applyPatch, type PatchRef } from '../patch.ts';
import type { SourcePackagePin } from '../stacks.ts';
import { debianLvm2Source, gitLvm2Source, type Lvm2Source } from './lvm2-source.ts';
import { COVERAGE_INPUTS, keepNotes, keptNotes, type BuildCoverage } from '../coverage.ts';

/** Bump when the build procedure changes in a way that changes its output. */
const CMIRRORD_RECIPE = '1';

export const CONFIGURE_FLAGS: readonly string[] = [
  '--enable-cmirrord',
  '--with-default-pid-dir=/run',
  '--disable-readline',
  '--disable-selinux',
  '--disable-blkid_wiping',
  '--disable-systemd-journal',
  '--disable-app-machineid',
  '--disable-udev-systemd-background-jobs',
];

/** Host packages whose headers and libraries cmirrord is compiled and linked against. */
const BUILD_DEPS = ['libcpg-dev', 'libcorosync-common-dev', 'libqb-dev', 'libaio-dev', 'libc6-dev'];

/** The built library's soname; Debian's libdevmapper is .so.1.02.1, so cmirrord needs this one shipped. */
export const LIBDEVMAPPER = 'libdevmapper.so.1.02';

export interface CmirrordInputs {
  source: string;
  patches: readonly PatchRef[];
  configureFlags: readonly string[];
  /** make variables for cmirrord's own directory (a coverage build's). */
  makeVars: readonly string[];
  toolchain: string;
}

export interface Cmirrord extends Built {
  binary: string;
  library: string;
  log: string;
  description: string;
  /** A coverage build's notes. */
  coverage?: BuildCoverage;
}

export function cmirrordKey(inputs: CmirrordInputs): string {
  const parts: KeyPart[] = [
    ['recipe', CMIRRORD_RECIPE],
    ['source', inputs.source],
    ['configure', inputs.configureFlags.join(' ')],
    ['toolchain', inputs.toolchain],
  ];
  // Only a coverage build has make variables: a plain build keeps the key it always had.
  if (inputs.makeVars.length) parts.push(['make', inputs.makeVars.join('\n')]);
  inputs.patches.forEach((p, i) => parts.push([`patch ${i} -p${p.strip}`, readFileSync(p.file)]));
  return cacheKey(parts);
}

async function toolchain(): Promise<string> {
  const gcc = (await run('gcc', ['--version'])).stdout.split('\n')[0].trim();
  const deps = await run('dpkg-query', ['-W', '-f=${Package}=${Version}\n', ...BUILD_DEPS], { allowFailure: true });
  return `${gcc}\n${deps.stdout.trim()}`;
}

export interface CmirrordPlan {
  key: string;
  entry: CacheEntry;
  source: Lvm2Source;
  patches: readonly PatchRef[];
  inputs: CmirrordInputs;
}

/** Everything needed to name the build; cheap enough for the cache-hit path. */
export async function planCmirrord(opts: { lvm2: SourcePackagePin; daemonTree?: string; patches: readonly PatchRef[]; coverage?: boolean; say: Progress }): Promise<CmirrordPlan> {
  const source = opts.daemonTree ? await gitLvm2Source(opts.daemonTree) : debianLvm2Source(opts.lvm2, opts.say);
  const patches = [...(opts.coverage ? [COVERAGE_INPUTS.daemonPatch] : []), ...opts.patches].map((p) => ({ ...p, file: resolve(p.file) }));
  const makeVars = opts.coverage ? COVERAGE_INPUTS.daemonMakeVars : [];
  const inputs: CmirrordInputs = { source: source.identity, patches, configureFlags: CONFIGURE_FLAGS, makeVars, toolchain: await toolchain() };
  const key = cmirrordKey(inputs);
  return { key, entry: new CacheEntry('cmirrord', key), source, patches, inputs };
}

function result(plan: CmirrordPlan, cached: boolean): Cmirrord {
  const notes = keptNotes(plan.entry.dir);
  return {
    ...(notes ? { coverage: notes } : {}),
    key: plan.key,
    dir: plan.entry.dir,
    binary: plan.entry.path('cmirrord'),
    library: plan.entry.path(LIBDEVMAPPER),
    log: plan.entry.path('build.log'),
    description: `${plan.source.description}, ${plan.patches.length} patch(es)`,
    cached,
  };
}

/** `onPatched` fires once the patches applied (or nothing needed patching), before the slow part. */
export async function ensureCmirrord(plan: CmirrordPlan, say: Progress, force = false, onPatched: () => void = () => {}): Promise<Cmirrord> {
  const { entry } = plan;
  if (entry.isComplete() && !force) return result(plan, true);
  const work = join(cacheRoot(), WORK_DIR, `cmirrord-${plan.key}`);
  const src = join(work, 'lvm2');
  const staging = entry.stage();
  const log = join(staging, 'build.log');
  const started = Date.now();
  mkdirSync(work, { recursive: true });
  try {
    await stage(`copy lvm2 source (${plan.source.description})`, () => plan.source.copyTo(src, log), say);
    if (plan.patches.length) {
      await stage(`patch lvm2 (${plan.patches.length})`, async () => {
        for (const p of plan.patches) await applyPatch(src, p, log);
      }, say);
    }
    onPatched();
    await stage(`build cmirrord (log ${log})`, async () => {
      const jobs = `-j${cpus().length}`;
      await run('./configure', CONFIGURE_FLAGS, { cwd: src, logFile: log, timeoutMs: 15 * 60_000 });
      await run('make', ['-C', 'libdm', jobs], { cwd: src, logFile: log, timeoutMs: 30 * 60_000 });
      await run('make', ['-C', 'daemons/cmirrord', jobs, ...plan.inputs.makeVars], { cwd: src, logFile: log, timeoutMs: 30 * 60_000 });
    }, say);
    const binary = join(src, 'daemons', 'cmirrord', 'cmirrord');
    const library = join(src, 'libdm', 'ioctl', LIBDEVMAPPER);
    for (const f of [binary, library]) {
      if (!existsSync(f)) throw new InfraError(`cmirrord build finished without ${f}; full log: ${log}`);
    }
    copyFileSync(binary, join(staging, 'cmirrord'));
    copyFileSync(library, join(staging, LIBDEVMAPPER));
    if (plan.inputs.makeVars.length) keepNotes('cmirrord', staging, { buildDir: src, sourceDir: src, objDir: 'daemons/cmirrord' });
    entry.publish(staging, {
      key: plan.key,
      source: plan.inputs.source,
      description: plan.source.description,
      patches: plan.patches.map((p) => ({ file: p.file, origin: p.origin })),
      configureFlags: CONFIGURE_FLAGS,
      makeVars: plan.inputs.makeVars,
      toolchain: plan.inputs.toolchain,
    }, started);
  } catch (err) {
    throw buildFailure(err, 'cmirrord', staging, log);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return result(plan, false);
}

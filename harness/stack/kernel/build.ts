/**
 * `clogtest kernel`: source + patch series + config fragments -> bzImage, cached by
 * the hash of everything that goes in. Each miss builds in a fresh scratch copy of the
 * source (hard links, so it costs seconds) and a fresh build directory; ccache makes
 * that cheap. Reusing a build directory across patch sets would be faster but make
 * trusts timestamps, and a reverted patch restores an older mtime: stale objects.
 */
import { existsSync, readdirSync, readFileSync, rmSync, mkdirSync, copyFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { cpus } from 'node:os';
import { buildFailure, CacheEntry, cacheKey, withBuildLock, WORK_DIR, type KeyPart, type Built } from '../cache.ts';
import { InputError } from '../../base/errors.ts';
import { requireTools, run } from '../../base/proc.ts';
import { cacheRoot, repoRoot } from '../../base/paths.ts';
import { progress, seconds, stage, type Progress } from '../../base/progress.ts';
import { applyPatch, type PatchRef } from '../patch.ts';
import { TOOLS } from '../host/packages.ts';
import { stackNamed } from '../stacks.ts';
import { commandLinePatches, loadSeries, withPatchForms } from './series.ts';
import { describeMismatches, loadFragment, verifyConfig, type Requested } from './config.ts';
import { debianSource, gitTreeSource, type KernelSource } from './source.ts';
import { COVERAGE_INPUTS, keepNotes, keptNotes, type BuildCoverage } from '../coverage.ts';
import { lastBuildSteps, reportBuildProgress } from './build-progress.ts';

/** Bump when the build procedure changes in a way that changes its output. */
const RECIPE_VERSION = '1';
const ARCH = 'x86_64';

export interface KernelOptions {
  /** A stack of vm-images/stacks.yaml (default: the first): its kernel source and its forms of the series. */
  stack?: string;
  kernelTree?: string;
  kernelImage?: string;
  kernelPatches?: string[];
  configFragments?: string[];
  /** Count executions of the mirror log's files with gcov (stack/coverage.ts). */
  coverage?: boolean;
  force?: boolean;
  say?: Progress;
}

export interface Kernel extends Built {
  bzImage: string;
  /** A coverage build's notes. */
  coverage?: BuildCoverage;
}

export const SERIES_FILE = join(repoRoot, 'kernel-patches', 'series');
export const FRAGMENT_DIR = join(repoRoot, 'kernel-patches', 'config');

export function projectFragments(dir = FRAGMENT_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.config'))
    .sort()
    .map((f) => join(dir, f));
}

export interface KernelInputs {
  source: Pick<KernelSource, 'identity'>;
  patches: readonly PatchRef[];
  fragments: readonly string[];
  compiler: string;
}

/** Everything that changes the bzImage, labelled so that bytes cannot move between inputs unnoticed. */
export function kernelKey(inputs: KernelInputs): string {
  const parts: KeyPart[] = [
    ['recipe', RECIPE_VERSION],
    ['source', inputs.source.identity],
    ['compiler', inputs.compiler],
  ];
  inputs.patches.forEach((p, i) => parts.push([`patch ${i} -p${p.strip} ${basename(p.file)}`, readFileSync(p.file)]));
  inputs.fragments.forEach((f, i) => parts.push([`fragment ${i} ${basename(f)}`, readFileSync(f)]));
  return cacheKey(parts);
}

async function compilerVersion(): Promise<string> {
  return (await run('gcc', ['--version'])).stdout.split('\n')[0].trim();
}

/** Hard links where the filesystem allows, a real copy otherwise; .git is never needed to build. */
async function scratchCopy(from: string, to: string): Promise<void> {
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  const entries = readdirSync(from).filter((e) => e !== '.git');
  const paths = entries.map((e) => join(from, e));
  const linked = await run('cp', ['-al', ...paths, to], { allowFailure: true });
  if (linked.exitCode !== 0) {
    rmSync(to, { recursive: true, force: true });
    mkdirSync(to, { recursive: true });
    await run('cp', ['-a', ...paths, to]);
  }
}

/** With -j, the tail of the log is often another job's output; the compiler's own error lines say what broke. */
export function compilerErrors(log: string, max = 10): string[] {
  return log.split('\n').filter((l) => /: (fatal )?error: /.test(l)).slice(0, max);
}

function makeArgs(src: string, build: string, ...targets: string[]): string[] {
  return ['-C', src, `O=${build}`, `ARCH=${ARCH}`, ...targets];
}

export interface KernelPlan extends KernelInputs {
  source: KernelSource;
  requested: Requested[];
  key: string;
  entry: CacheEntry;
  coverage: boolean;
}

/** Everything that names the build, without building: cheap enough for every cache hit and --print-key. */
export async function planKernel(opts: KernelOptions = {}): Promise<KernelPlan> {
  const say = opts.say ?? progress;
  requireTools(...TOOLS.kernel);
  const stack = stackNamed(opts.stack);
  const patches = [
    ...withPatchForms(loadSeries(SERIES_FILE), stack.kernelPatchForms, stack.name),
    ...(opts.coverage ? [COVERAGE_INPUTS.kernelPatch] : []),
    ...commandLinePatches(opts.kernelPatches ?? [], '--kernel-patch'),
  ];
  const fragments = [...projectFragments(), ...(opts.coverage ? [COVERAGE_INPUTS.kernelFragment] : []), ...(opts.configFragments ?? []).map((f) => resolve(f))];
  const requested: Requested[] = fragments.flatMap((f) => loadFragment(f));
  const source = opts.kernelTree ? await gitTreeSource(opts.kernelTree) : debianSource(stack.kernel, say);
  const compiler = await compilerVersion();
  const key = kernelKey({ source, patches, fragments, compiler });
  return { source, patches, fragments, requested, compiler, key, entry: new CacheEntry('kernels', key), coverage: opts.coverage ?? false };
}

export async function ensureKernel(opts: KernelOptions = {}): Promise<Kernel> {
  const say = opts.say ?? progress;
  if (opts.kernelImage) {
    const image = resolve(opts.kernelImage);
    if (!existsSync(image) || !statSync(image).isFile()) throw new InputError(`--kernel-image ${opts.kernelImage}: no such file`);
    say(`using kernel image ${image} (not built)`);
    return { bzImage: image, key: 'user-image', dir: resolve(image, '..'), cached: true };
  }
  const plan = await planKernel(opts);
  const { key, entry, source, patches, fragments } = plan;
  say(`kernel ${key}: ${source.description}, ${patches.length} patch(es), ${fragments.length} fragment(s)`);
  const hit = (): Kernel => {
    say(`cache hit: ${entry.path('bzImage')}`);
    return withNotes({ bzImage: entry.path('bzImage'), key, dir: entry.dir, cached: true });
  };
  if (entry.isComplete() && !opts.force) return hit();
  return withBuildLock(`kernel ${key}`, say, async () => {
    if (entry.isComplete() && !opts.force) return hit();
    return buildKernel({ ...plan, say });
  });
}

function withNotes(k: Kernel): Kernel {
  const notes = keptNotes(k.dir);
  return notes ? { ...k, coverage: notes } : k;
}

async function buildKernel({ source, patches, fragments, requested, compiler, key, entry, coverage, say }: KernelPlan & { say: Progress }): Promise<Kernel> {
  const work = join(cacheRoot(), WORK_DIR, `kernel-${key}`);
  const src = join(work, 'src');
  const build = join(work, 'build');
  const staging = entry.stage();
  const log = join(staging, 'build.log');
  const started = Date.now();
  try {
    await source.prepare();
    await stage('copy source', () => scratchCopy(source.dir, src), say);
    if (patches.length) {
      await stage(`patch (${patches.length})`, async () => {
        for (const p of patches) await applyPatch(src, p, log);
      }, say);
    }
    mkdirSync(build, { recursive: true });
    await stage('config', async () => {
      await run('make', makeArgs(src, build, 'tinyconfig'), { logFile: log });
      await run(join(src, 'scripts/kconfig/merge_config.sh'), ['-m', '-O', build, join(build, '.config'), ...fragments], {
        cwd: src,
        logFile: log,
      });
      await run('make', makeArgs(src, build, 'olddefconfig'), { logFile: log });
      const mismatches = verifyConfig(requested, readFileSync(join(build, '.config'), 'utf8'));
      if (mismatches.length) throw new InputError(describeMismatches(mismatches));
    }, say);
    const jobs = String(cpus().length);
    const stopReporting = reportBuildProgress(log, lastBuildSteps(join(cacheRoot(), 'kernels')), say);
    await stage(`build bzImage (-j${jobs}, log ${log})`, () =>
      run('make', [...makeArgs(src, build, 'bzImage'), `-j${jobs}`, 'CC=ccache gcc', 'KBUILD_BUILD_TIMESTAMP=clogtest', 'KBUILD_BUILD_USER=clogtest', 'KBUILD_BUILD_HOST=clogtest'], {
        logFile: log,
        env: {
          CCACHE_DIR: join(cacheRoot(), 'ccache'),
          CCACHE_BASEDIR: join(cacheRoot(), WORK_DIR),
          CCACHE_NOHASHDIR: '1',
          CCACHE_MAXSIZE: '5G',
        },
        timeoutMs: 120 * 60_000,
      }).finally(stopReporting),
    say);
    const release = (await run('make', ['-s', ...makeArgs(src, build, 'kernelrelease')])).stdout.trim();
    copyFileSync(join(build, 'arch/x86/boot/bzImage'), join(staging, 'bzImage'));
    copyFileSync(join(build, '.config'), join(staging, '.config'));
    if (coverage) keepNotes('linux', staging, { buildDir: build, sourceDir: src, objDir: 'drivers/md' });
    entry.publish(staging, {
      key,
      release,
      source: source.identity,
      description: source.description,
      patches: patches.map((p) => ({ file: p.file, origin: p.origin })),
      fragments,
      compiler,
    }, started);
  } catch (err) {
    throw buildFailure(err, 'kernel', staging, log, (file: string) => {
      const errors = compilerErrors(readFileSync(file, 'utf8'));
      return errors.length ? `first errors:\n${errors.join('\n')}\nlast lines:\n` : '';
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  say(`kernel ready in ${seconds(Date.now() - started)}: ${entry.path('bzImage')}`);
  return withNotes({ bzImage: entry.path('bzImage'), key, dir: entry.dir, cached: false });
}

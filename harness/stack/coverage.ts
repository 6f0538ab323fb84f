/**
 * Coverage builds (`--coverage`): the kernel and cmirrord compiled with gcov, each keeping beside its binary
 * the notes (.gcno) and sources of the files it counts, so that counters collected from the guests can be
 * read back on the host long after the build directory is gone. The inputs here enter the builds' cache
 * keys like any patch or fragment: a coverage build never stands in for a plain one.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { repoRoot } from '../base/paths.ts';
import { InfraError } from '../base/errors.ts';
import type { PatchRef } from './patch.ts';

const KERNEL_DIR = join(repoRoot, 'kernel-patches', 'coverage');
const DAEMON_DIR = join(repoRoot, 'vm-images', 'coverage');

export const COVERAGE_INPUTS = {
  /** gcov in debugfs; merged after kernel-patches/config/*.config. */
  kernelFragment: join(KERNEL_DIR, 'gcov.config'),
  /** GCOV_PROFILE for dm-log-userspace, dm-raid1 and dm-region-hash only. */
  kernelPatch: { file: join(KERNEL_DIR, 'gcov-profile-mirror-log.patch'), origin: '--coverage', strip: 1 } satisfies PatchRef,
  /** cmirrord writes its counters on SIGUSR2 (it is killed, so exit is too late). */
  daemonPatch: { file: join(DAEMON_DIR, 'cmirrord-gcov-dump-on-sigusr2.patch'), origin: '--coverage', strip: 1 } satisfies PatchRef,
  /**
   * Make variables for cmirrord alone (libdevmapper is not counted): lvm2's make.tmpl gives executables
   * these, and a command-line value replaces its own `+=`, so its hardening flags are repeated.
   */
  daemonMakeVars: ['EXTRA_EXEC_CFLAGS=-fPIE --coverage -DCLOGTEST_GCOV', 'EXTRA_EXEC_LDFLAGS=-Wl,-z,relro,-z,now -pie -fPIE --coverage'],
} as const;

/** The patch and fragment paths under their own directory, for a recipe that must leave them out of a plain build's key. */
export const COVERAGE_DIRS = { kernel: KERNEL_DIR, daemon: DAEMON_DIR } as const;

export type Component = 'linux' | 'cmirrord';

/** What a coverage build keeps, in its cache entry's `coverage/` directory. */
export interface BuildCoverage {
  component: Component;
  /** Holds <file>.gcno and <file> (the source as compiled) for every counted file. */
  notesDir: string;
  /** Where the compiler wrote its objects: a counter's path in the guest ends in <buildDir>/<dir of file>/. */
  buildDir: string;
  /** The tree the compiler read: gcov names a source by its path under it. */
  sourceDir: string;
  /** The counted source files, relative to sourceDir. */
  files: string[];
}

const NOTES = 'coverage';
const META = 'coverage.json';

function gcnoFiles(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? gcnoFiles(join(dir, e.name), base) : e.name.endsWith('.gcno') ? [relative(base, join(dir, e.name))] : []));
}

/**
 * Copies the notes of every file the build counted under `objDir` (relative to buildDir) and its source
 * into `staging/coverage/`, and records where the build ran. A coverage build that counted nothing is
 * broken (the profiling flags did not reach the compiler): that fails the build.
 */
export function keepNotes(component: Component, staging: string, build: { buildDir: string; sourceDir: string; objDir: string }): BuildCoverage {
  const notesDir = join(staging, NOTES);
  const files: string[] = [];
  for (const gcno of gcnoFiles(join(build.buildDir, build.objDir))) {
    const file = join(build.objDir, gcno.replace(/\.gcno$/, '.c'));
    const source = join(build.sourceDir, file);
    if (!existsSync(source)) continue;
    mkdirSync(dirname(join(notesDir, file)), { recursive: true });
    copyFileSync(join(build.buildDir, build.objDir, gcno), join(notesDir, `${file}.gcno`));
    copyFileSync(source, join(notesDir, file));
    files.push(file);
  }
  if (!files.length) throw new InfraError(`coverage build of ${component} left no .gcno under ${join(build.buildDir, build.objDir)}: the gcov flags did not reach the compiler`);
  const kept: BuildCoverage = { component, notesDir, buildDir: build.buildDir, sourceDir: build.sourceDir, files: files.sort() };
  writeFileSync(join(staging, META), `${JSON.stringify({ ...kept, notesDir: undefined }, null, 2)}\n`);
  return kept;
}

/** The notes a cached coverage build kept; undefined for a plain build. */
export function keptNotes(entryDir: string): BuildCoverage | undefined {
  const meta = join(entryDir, META);
  if (!existsSync(meta)) return undefined;
  return { ...(JSON.parse(readFileSync(meta, 'utf8')) as Omit<BuildCoverage, 'notesDir'>), notesDir: join(entryDir, NOTES) };
}

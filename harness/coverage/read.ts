/**
 * Counters collected from a guest (.gcda), read on the host with the gcov of the compiler that built them,
 * against the notes the coverage build kept (stack/coverage.ts).
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { InfraError } from '../base/errors.ts';
import { run } from '../base/proc.ts';
import type { BuildCoverage } from '../stack/coverage.ts';
import { EMPTY, fromGcov, mergeCoverage, type Coverage, type GcovFile } from './coverage.ts';

/** A counted file's counters under a collection's component directory: drivers/md/dm-raid1.c -> drivers/md/dm-raid1.gcda. */
export function gcdaPath(file: string): string {
  return file.replace(/\.c$/, '.gcda');
}

function gcdaFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? gcdaFiles(join(dir, e.name)).map((f) => join(e.name, f)) : e.name.endsWith('.gcda') ? [e.name] : []));
}

/** gcov's report of one counted file: its notes and counters side by side in a scratch directory. */
async function gcovReport(build: BuildCoverage, file: string, gcda: string): Promise<GcovFile> {
  const scratch = mkdtempSync(join(tmpdir(), 'clogtest-gcov-'));
  try {
    copyFileSync(join(build.notesDir, `${file}.gcno`), join(scratch, 'f.gcno'));
    copyFileSync(gcda, join(scratch, 'f.gcda'));
    const r = await run('gcov', ['--branch-probabilities', '--json-format', '--stdout', 'f.gcda'], { cwd: scratch, allowFailure: true });
    if (r.exitCode !== 0) throw new InfraError(`gcov could not read ${gcda} against the notes of ${file}: ${r.stderr.trim().split('\n')[0]}`);
    const doc = JSON.parse(r.stdout) as { files: GcovFile[] };
    // An inline function of a header is a file of its own in gcov's report; only the counted file is kept.
    // gcov names it as the compiler was given it: relative to lvm2's directory, absolute or ../src/ for the kernel.
    const own = doc.files.find((g) => g.file === file || g.file.endsWith(`/${file}`)) ?? doc.files.find((g) => basename(g.file) === basename(file));
    if (!own) throw new InfraError(`gcov's report of ${gcda} has no ${file} (it has ${doc.files.map((g) => g.file).join(', ')})`);
    return own;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The coverage in one collection directory (`<component>/<dir>/<name>.gcda` for each counted file a node
 * gave), named `<component>/<file>`. Counters of a file the build did not count are an error: they can only
 * come from another build.
 */
export async function readCollection(dir: string, builds: readonly BuildCoverage[]): Promise<Coverage> {
  let c = EMPTY;
  for (const build of builds) {
    const root = join(dir, build.component);
    for (const gcda of gcdaFiles(root)) {
      const file = build.files.find((f) => gcdaPath(f) === gcda);
      if (!file) throw new InfraError(`${join(root, gcda)}: counters of a file the ${build.component} build does not count (${relative(dir, root)})`);
      c = mergeCoverage(c, fromGcov(`${build.component}/${file}`, await gcovReport(build, file, join(root, gcda))));
    }
  }
  return c;
}

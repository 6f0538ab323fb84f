/**
 * Reading counters against a coverage build's notes, with the host's own gcc and gcov: the notes and the
 * counters are copied apart, as the cache and a guest hold them, and read back.
 */
import t from 'tap';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../../harness/base/proc.ts';
import { readCollection } from '../../../harness/coverage/read.ts';
import { summarize } from '../../../harness/coverage/coverage.ts';
import type { BuildCoverage } from '../../../harness/stack/coverage.ts';
import { tempDir } from '../../temp-dir.ts';

t.test('counters from elsewhere read against the kept notes give the lines that ran', async (t) => {
  const dir = tempDir(t, 'clogtest-read-');
  const build = join(dir, 'build', 'daemons', 'cmirrord');
  mkdirSync(build, { recursive: true });
  writeFileSync(join(build, 'functions.c'), 'int used(int x)\n{\n\tif (x > 1)\n\t\treturn 2;\n\treturn 3;\n}\nint unused(void)\n{\n\treturn 5;\n}\nint main(void)\n{\n\treturn used(1) == 3 ? 0 : 1;\n}\n');
  await run('gcc', ['-O0', '--coverage', '-o', 'prog', 'functions.c'], { cwd: build });
  await run(join(build, 'prog'), [], { cwd: build });
  const notesDir = join(dir, 'notes');
  mkdirSync(join(notesDir, 'daemons', 'cmirrord'), { recursive: true });
  copyFileSync(join(build, 'prog-functions.gcno'), join(notesDir, 'daemons', 'cmirrord', 'functions.c.gcno'));
  const collected = join(dir, 'collected', 'cmirrord', 'daemons', 'cmirrord');
  mkdirSync(collected, { recursive: true });
  copyFileSync(join(build, 'prog-functions.gcda'), join(collected, 'functions.gcda'));
  const notes: BuildCoverage = { component: 'cmirrord', notesDir, buildDir: join(dir, 'build'), sourceDir: join(dir, 'build'), files: ['daemons/cmirrord/functions.c'] };
  const c = await readCollection(join(dir, 'collected'), [notes]);
  const [s] = summarize(c);
  t.equal(s!.file, 'cmirrord/daemons/cmirrord/functions.c');
  t.same(s!.perFunction.map((f) => [f.name, f.count > 0]), [['used', true], ['unused', false], ['main', true]]);
  t.match(s!.unreached, /^4, 7-9$|^4, 8-9$|^4, 9$/, 'the branch not taken and the function never called');
  t.same(s!.branches.total, 2);
  t.same(s!.branches.hit, 1);

  mkdirSync(join(dir, 'stray', 'cmirrord'), { recursive: true });
  writeFileSync(join(dir, 'stray', 'cmirrord', 'other.gcda'), 'x');
  await t.rejects(readCollection(join(dir, 'stray'), [notes]), /other\.gcda: counters of a file the cmirrord build does not count/);
});

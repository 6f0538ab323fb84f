import t from 'tap';
import { realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandLinePatches, loadSeries, parseSeries } from '../../../harness/stack/kernel/series.ts';
import { InputError } from '../../../harness/base/errors.ts';
import { tempDir } from '../../temp-dir.ts';

t.test('series: comments, blank lines, -pN, order kept', async (t) => {
  const refs = parseSeries('# header\n\nfirst.patch\n  second.patch -p0  # trailing comment\n', '/k/series');
  t.same(
    refs.map((r) => [r.file, r.strip, r.origin]),
    [
      ['/k/first.patch', 1, '/k/series:3'],
      ['/k/second.patch', 0, '/k/series:4'],
    ],
  );
});

t.test('series: unknown option names file and line', async (t) => {
  t.throws(() => parseSeries('a.patch -R\n', '/k/series'), { message: '/k/series:1: unsupported option "-R" for a.patch (only -pN is understood)' });
});

t.test('series: a listed patch that does not exist is an input error', async (t) => {
  const dir = tempDir(t, 'series-');
  writeFileSync(join(dir, 'series'), '# c\nmissing.patch\n');
  t.throws(() => loadSeries(join(dir, 'series')), new InputError(`${dir}/series:2: patch ${dir}/missing.patch does not exist`));
});

t.test('series: the shipped series parses', async (t) => {
  t.ok(Array.isArray(loadSeries(new URL('../../../kernel-patches/series', import.meta.url).pathname)));
});

t.test('command-line patches must exist', async (t) => {
  t.throws(() => commandLinePatches(['/nonexistent.patch'], '--kernel-patch'), { message: '--kernel-patch /nonexistent.patch: no such file' });
});

t.test('a command-line patch given relative to the working directory is kept as an absolute path', async (t) => {
  const dir = realpathSync(tempDir(t, 'cli-patch-'));
  writeFileSync(join(dir, 'x.patch'), '');
  const cwd = process.cwd();
  process.chdir(dir);
  t.teardown(() => process.chdir(cwd));
  t.same(commandLinePatches(['x.patch'], '--kernel-patch'), [{ file: join(dir, 'x.patch'), origin: '--kernel-patch', strip: 1 }]);
});

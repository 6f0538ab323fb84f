import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { filterCases, findCaseFiles, parseShard, repeat, shard } from '../../../harness/case/select.ts';
import { tempDir } from '../../temp-dir.ts';

const cases = Array.from({ length: 11 }, (_, i) => ({
  file: `cases/c${String((i * 7) % 11).padStart(2, '0')}.yaml`,
  name: `c${i}`,
  tags: i % 3 === 0 ? ['smoke'] : i % 3 === 1 ? ['crash', 'slow'] : ['crash'],
}));

t.test('shards 1..n partition the list for n = 1..5', async (t) => {
  for (let n = 1; n <= 5; n++) {
    const parts = Array.from({ length: n }, (_, i) => shard(cases, i + 1, n));
    const all = parts.flat().map((c) => c.file);
    t.equal(all.length, cases.length, `n=${n}: no case twice`);
    t.same(new Set(all), new Set(cases.map((c) => c.file)), `n=${n}: every case once`);
    t.ok(parts.every((p) => p.length >= Math.floor(cases.length / n)), `n=${n}: balanced`);
  }
});

t.test('a shard does not depend on the order the cases were given in', async (t) => {
  const reversed = [...cases].reverse();
  for (let i = 1; i <= 3; i++) t.same(shard(reversed, i, 3), shard(cases, i, 3));
});

t.test('--shard i/n is parsed strictly', async (t) => {
  t.same(parseShard('2/5'), { index: 2, count: 5 });
  for (const bad of ['0/2', '3/2', '1/0', '1', 'a/b', '1/2/3']) t.throws(() => parseShard(bad), /--shard must be i\/n/, bad);
  t.throws(() => shard(cases, 0, 2), /need 1 <= i <= n/);
});

t.test('--tag keeps any listed tag and drops "!tag"; --grep matches name or path', async (t) => {
  t.same(filterCases(cases, { tags: ['smoke'] }).map((c) => c.name), ['c0', 'c3', 'c6', 'c9']);
  t.same(filterCases(cases, { tags: ['crash', '!slow'] }).map((c) => c.name), ['c2', 'c5', 'c8']);
  t.same(filterCases(cases, { grep: '^C1' }).map((c) => c.name), ['c1', 'c10']);
  t.same(filterCases(cases, { grep: 'c04\\.yaml' }).map((c) => c.name), ['c10']);
  t.equal(filterCases(cases, {}).length, cases.length);
  t.throws(() => filterCases(cases, { grep: '(' }), /--grep: not a valid regular expression/);
});

t.test('--repeat runs each case N times in a row', async (t) => {
  t.same(repeat(['a', 'b'], 2), [
    { case: 'a', iteration: 1 },
    { case: 'a', iteration: 2 },
    { case: 'b', iteration: 1 },
    { case: 'b', iteration: 2 },
  ]);
  t.throws(() => repeat(['a'], 0), /--repeat/);
});

t.test('directories stand for their yaml files, sorted', async (t) => {
  const dir = tempDir(t, 'clogtest-cases-');
  writeFileSync(join(dir, 'b.yaml'), '');
  writeFileSync(join(dir, 'a.yml'), '');
  writeFileSync(join(dir, 'notes.txt'), '');
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'c.yaml'), '');
  t.same(findCaseFiles([dir, join(dir, 'b.yaml')]), [join(dir, 'a.yml'), join(dir, 'b.yaml')]);
  t.throws(() => findCaseFiles([join(dir, 'missing.yaml')]), /no such case file or directory/);
  t.throws(() => findCaseFiles([join(dir, 'sub', 'none')]), /no such case file/);
});

import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKS } from '../../../harness/case/schema.ts';
import { caseFile, loadCorpus, parseDefect } from '../../../harness/stack/mutation/corpus.ts';
import { scoreLine } from '../../../harness/stack/mutation/score.ts';
import { tempDir } from '../../temp-dir.ts';

const GOOD = `Defect: x-bug
Request: mark
Cases: healthy-sync, concurrent-same-region
Expect: dirty-before-write, clean-implies-equal

Says what goes wrong.

--- a/f.c
+++ b/f.c
@@ -1 +1 @@
-a
+b
`;

t.test('a defect header says what it is, and its prose says why', async (t) => {
  const d = parseDefect(GOOD, '/x/x-bug.patch', 'daemon');
  t.same(
    { name: d.name, side: d.side, request: d.request, cases: d.cases, expect: d.expect, why: d.why },
    { name: 'x-bug', side: 'daemon', request: 'mark', cases: ['healthy-sync', 'concurrent-same-region'], expect: ['dirty-before-write', 'clean-implies-equal'], why: 'Says what goes wrong.' },
  );
});

t.test('a bad header is an input error naming the file and line', async (t) => {
  t.throws(() => parseDefect(GOOD.replace('Expect: dirty-before-write', 'Expect: dirty-before-writ'), '/x/x-bug.patch', 'daemon'), /x-bug.patch:4: unknown check dirty-before-writ/);
  t.throws(() => parseDefect(GOOD.replace('Cases: ', 'Casse: '), '/x/x-bug.patch', 'daemon'), /x-bug.patch:3: unknown header key "Casse"/);
  t.throws(() => parseDefect(GOOD, '/x/other.patch', 'daemon'), /must be the file's name/);
  t.throws(() => parseDefect(GOOD.replace('Says what goes wrong.\n', ''), '/x/x-bug.patch', 'daemon'), /say what the defect does/);
  t.throws(() => parseDefect(GOOD.split('--- a/f.c')[0]!, '/x/x-bug.patch', 'daemon'), /no diff/);
});

t.test('the shipped corpus: both sides, every case it names exists, every check is expected somewhere', async (t) => {
  const corpus = loadCorpus();
  t.ok(corpus.some((d) => d.side === 'kernel') && corpus.some((d) => d.side === 'daemon'));
  for (const d of corpus) for (const c of d.cases) t.ok(caseFile(c), `${d.name}: ${c}`);
  const expected = new Set(corpus.flatMap((d) => d.expect));
  t.same(CHECKS.filter((c) => !expected.has(c)), [], 'every check is expected to fire for some defect');
  const requests = new Set(corpus.map((d) => d.request));
  for (const r of ['ctr', 'resume', 'presuspend/postsuspend', 'mark', 'clear', 'flush', 'get-resync-work', 'set-region-sync', 'in-sync', 'is-clean', 'get-sync-count', 'status', 'is-remote-recovering', 'disk-log writer']) {
    t.ok(requests.has(r), `a defect for ${r}`);
  }
});

t.test('loadCorpus reads both directories, kernel first', async (t) => {
  const root = tempDir(t, 'clogtest-corpus-');
  for (const side of ['k', 'd']) mkdirSync(join(root, side));
  writeFileSync(join(root, 'd', 'x-bug.patch'), GOOD);
  writeFileSync(join(root, 'k', 'y-bug.patch'), GOOD.replace('Defect: x-bug', 'Defect: y-bug'));
  t.same(loadCorpus({ kernel: join(root, 'k'), daemon: join(root, 'd') }).map((d) => `${d.side}/${d.name}`), ['kernel/y-bug', 'daemon/x-bug']);
});

t.test('the score line counts each outcome', async (t) => {
  t.equal(scoreLine([{ result: 'caught' }, { result: 'caught' }, { result: 'missed' }, { result: 'undecided' }], 3_723_000), 'mutation score: 2/4 caught, 1 missed, 1 undecided (62 min 3 s)');
});

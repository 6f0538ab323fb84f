import t from 'tap';
import { fromGcov, lineRanges, mergeCoverage, percent, summarize, EMPTY, type GcovFile } from '../../../harness/coverage/coverage.ts';
import { runCoverage } from '../../../harness/coverage/record.ts';

/** A two-function file: f on lines 1-4 with a branch on line 2, g on lines 6-7. */
function report(counts: Record<number, number>, branch: [number, number], fns: { f: number; g: number }): GcovFile {
  return {
    file: '/build/lvm2/daemons/cmirrord/functions.c',
    lines: [1, 2, 3, 4, 6, 7].map((l) => ({ line_number: l, count: counts[l] ?? 0, branches: l === 2 ? [{ count: branch[0] }, { count: branch[1] }] : [] })),
    functions: [
      { name: 'f', start_line: 1, end_line: 4, execution_count: fns.f },
      { name: 'g', start_line: 6, end_line: 7, execution_count: fns.g },
    ],
  };
}

const NAME = 'cmirrord/daemons/cmirrord/functions.c';

t.test('a gcov report becomes line, branch and function counts; a line listed twice adds up', async (t) => {
  const g = report({ 1: 2, 2: 2, 3: 1 }, [1, 0], { f: 2, g: 0 });
  g.lines.push({ line_number: 3, count: 4, branches: [] });
  const f = fromGcov(NAME, g).files[NAME]!;
  t.same(f.lines, { 1: 2, 2: 2, 3: 5, 4: 0, 6: 0, 7: 0 });
  t.same(f.branches, { 2: [1, 0] });
  t.same(f.functions.f, { startLine: 1, endLine: 4, count: 2 });
});

t.test('merging adds counts and keeps, for each line, the first case that reached it', async (t) => {
  const a = fromGcov(NAME, report({ 1: 1, 2: 1, 3: 1 }, [1, 0], { f: 1, g: 0 }));
  const b = fromGcov(NAME, report({ 1: 1, 2: 1, 4: 1, 6: 3, 7: 3 }, [0, 1], { f: 1, g: 3 }));
  const run = runCoverage([
    { case: 'one', lost: [], coverage: a },
    { case: 'two', lost: ['end: node2: down at end; what it ran since its last collection is lost'], coverage: b },
    { case: 'three', lost: [], coverage: EMPTY },
  ]);
  const f = run.coverage.files[NAME]!;
  t.same(f.lines, { 1: 2, 2: 2, 3: 1, 4: 1, 6: 3, 7: 3 });
  t.same(f.branches, { 2: [1, 1] });
  t.same(f.first, { 1: 'one', 2: 'one', 3: 'one', 4: 'two', 6: 'two', 7: 'two' });
  t.same(run.cases, ['one', 'two', 'three']);
  t.same(run.lost, ['two: end: node2: down at end; what it ran since its last collection is lost']);
  const [s] = run.files;
  t.same([s!.lines, s!.branches, s!.functions], [{ hit: 6, total: 6 }, { hit: 2, total: 2 }, { hit: 2, total: 2 }]);
  t.equal(s!.unreached, '');
});

t.test('a merge of collections within a case names no case; the run names the case', async (t) => {
  const node1 = fromGcov(NAME, report({ 1: 1 }, [0, 0], { f: 1, g: 0 }));
  const node2 = fromGcov(NAME, report({ 6: 1 }, [0, 0], { f: 0, g: 1 }));
  const inCase = mergeCoverage(node1, node2);
  t.equal(inCase.files[NAME]!.first, undefined);
  const run = runCoverage([{ case: 'c', lost: [], coverage: inCase }]);
  t.same(run.coverage.files[NAME]!.first, { 1: 'c', 6: 'c' });
});

t.test('the summary counts per file and per function and lists the lines never reached as ranges', async (t) => {
  const c = fromGcov(NAME, report({ 1: 1, 2: 1, 6: 1 }, [1, 0], { f: 1, g: 1 }));
  const [s] = summarize(c);
  t.same(s!.lines, { hit: 3, total: 6 });
  t.equal(percent(s!.lines), 50);
  t.same(s!.branches, { hit: 1, total: 2 });
  t.same(s!.perFunction.map((f) => [f.name, f.lines]), [['f', { hit: 2, total: 4 }], ['g', { hit: 1, total: 2 }]]);
  t.equal(s!.unreached, '3-4, 7', 'lines 4 and 6 are consecutive counted lines, but 6 was reached');
});

t.test('line ranges run over lines gcov does not count (blank lines, comments)', async (t) => {
  t.equal(lineRanges([10, 12, 13, 20], [10, 12, 13, 15, 20]), '10-13, 20');
  t.equal(lineRanges([], [1, 2]), '');
});

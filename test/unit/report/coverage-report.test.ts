/**
 * A run with --coverage: its coverage/ (each case's file and the counted sources) becomes the report's
 * coverage section, rendered by the page's own script in Debian's chromium.
 */
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromGcov, type GcovFile } from '../../../harness/coverage/coverage.ts';
import { saveCaseCoverage, writeRunCoverage } from '../../../harness/coverage/record.ts';
import { writeReport } from '../../../harness/report/html.ts';
import { readReportData } from '../../../harness/report/report-data.ts';
import type { BuildCoverage } from '../../../harness/stack/coverage.ts';
import { renderedDom } from '../../browser.ts';
import { tempDir } from '../../temp-dir.ts';

const FILE = 'drivers/md/dm-raid1.c';
const gcov = (counts: number[]): GcovFile => ({
  file: `/src/${FILE}`,
  lines: counts.map((count, i) => ({ line_number: i + 2, count, branches: [] })),
  functions: [{ name: 'mirror_map', start_line: 1, end_line: 4, execution_count: counts[0]! }],
});

t.test("a run's coverage is in the report: figures per file and function, lines never reached, first case per line", async (t) => {
  const runDir = tempDir(t, 'clogtest-coverage-report-');
  const notesDir = join(runDir, 'notes');
  mkdirSync(join(notesDir, 'drivers', 'md'), { recursive: true });
  writeFileSync(join(notesDir, FILE), 'static int mirror_map(void)\n{\n\treturn 1;\n\treturn 2;\n}\n');
  const build: BuildCoverage = { component: 'linux', notesDir, buildDir: '/b', sourceDir: '/src', files: [FILE] };
  const name = `linux/${FILE}`;
  saveCaseCoverage(join(runDir, 'healthy-sync'), runDir, { case: 'healthy-sync', lost: [], coverage: fromGcov(name, gcov([1, 1, 0])) });
  saveCaseCoverage(join(runDir, 'node-crash'), runDir, { case: 'node-crash', lost: ['end: node3: down at end; what it ran since its last collection is lost'], coverage: fromGcov(name, gcov([2, 0, 0])) });
  writeRunCoverage(runDir, ['healthy-sync', 'node-crash'], [build]);
  const data = readReportData(runDir);
  const [f] = data.coverage!.files;
  t.equal(f!.file, name);
  t.same(f!.lines, { hit: 2, total: 3 });
  t.equal(f!.unreached, '4');
  t.same(f!.first, { 2: 'healthy-sync', 3: 'healthy-sync' });
  t.equal(f!.source[2], '\treturn 1;');
  const { dom } = await renderedDom(writeReport(runDir));
  t.match(dom, /data-rendered="yes"/, 'its script ran to the end');
  t.notMatch(dom, /data-errors=/, 'the page logged no errors');
  t.match(dom, /<h2>Coverage of 2 case\(s\)<\/h2>/);
  t.match(dom, /<a href="#cov-linux\/drivers\/md\/dm-raid1.c">linux\/drivers\/md\/dm-raid1.c<\/a><\/td><td>66.7 % \(2\/3\)<\/td>/);
  t.match(dom, /never reached: 4</);
  t.match(dom, /    3        1 \| \treturn 1;  \[healthy-sync\]/, 'a line with its count and the first case that reached it');
  t.match(dom, /    4    ##### \| \treturn 2;\n/, 'a line never reached');
  t.match(dom, /node-crash: end: node3: down at end/, 'the lost counters are listed');
});

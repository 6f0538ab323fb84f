/** An explore run's failures are in its report: known or new, count, first seed and scenario, minimal case. */
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeReport } from '../../../harness/report/html.ts';
import { EXPLORE_FILE, readReportData } from '../../../harness/report/report-data.ts';
import { renderedDom } from '../../browser.ts';
import { tempDir } from '../../temp-dir.ts';

t.test('explore.json becomes a table of failures in report.html', async (t) => {
  const runDir = tempDir(t, 'clogtest-explore-report-');
  mkdirSync(join(runDir, 'scenarios'));
  const failures = [
    { slug: 'bug-1', signature: 'legs-converge/legs-differ/faulted', known: [1], count: 3, firstSeed: 86930528, firstScenario: join(runDir, 'scenarios/explore-128-2.yaml'), dirs: [], minimal: { file: join(runDir, 'found/bug-1.yaml'), steps: 6, runs: 14, durationMs: 900_000, cutShort: false } },
    { slug: 'nodes-agree-bitmap-differs-0a1b2c3d', signature: 'nodes-agree/bitmap-differs/other', count: 1, firstSeed: 7, firstScenario: join(runDir, 'scenarios/explore-128-5.yaml'), dirs: [] },
  ];
  writeFileSync(join(runDir, EXPLORE_FILE), JSON.stringify({ runDir, seed: 128, budgetMs: 3_600_000, exploreMs: 3_600_000, shrinkMs: 900_000, fixes: false, scenarios: [{}, {}, {}, {}, {}], failures }));
  const data = readReportData(runDir);
  t.same(data.explore?.failures.map((f) => [f.known, f.firstScenario, f.minimal?.file ?? null]), [
    [[1], 'scenarios/explore-128-2.yaml', 'found/bug-1.yaml'],
    [null, 'scenarios/explore-128-5.yaml', null],
  ]);
  const { dom } = await renderedDom(writeReport(runDir));
  t.notMatch(dom, /data-errors=/, 'the page logged no errors');
  t.match(dom, /<h2>Explored: 5 scenarios from seed 128 in 3600.0 s, shrinking 900.0 s<\/h2>/);
  t.match(dom, /<td class="mono">bug-1<\/td><td>1<\/td><td>3<\/td><td>86930528<\/td>/);
  t.match(dom, /<a href="found\/bug-1.yaml">6 steps, 14 runs<\/a>/);
  t.match(dom, /<tr class="explore-new"><td class="mono">nodes-agree-bitmap-differs-0a1b2c3d<\/td><td>NEW<\/td>/);
});

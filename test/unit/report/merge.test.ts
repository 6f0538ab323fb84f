import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { junitXml } from '../../../harness/report/junit.ts';
import { asCaseResults, mergeSummaries, parseSummary, type Summary, type SummaryCase } from '../../../harness/report/merge.ts';
import { repoRoot } from '../../../harness/base/paths.ts';
import { tempDir } from '../../temp-dir.ts';

function kase(name: string, status: SummaryCase['status'], knownBug?: number): SummaryCase {
  const known = knownBug === undefined ? null : { bugs: [knownBug], intermittent: false, description: `bug ${knownBug}`, hit: `bug ${knownBug}`, explained: [], unexplained: [] };
  const outcome = status === 'failed' && known ? 'known failure' : status;
  return { name, file: `cases/${name}.yaml`, iteration: 1, seed: 7, status, outcome, known, durationMs: 1000, dir: `runs/x/${name}`, message: status === 'passed' ? null : `${name} went wrong` };
}

const shard1: Summary = { runDir: 'runs/a', passed: 1, failed: 1, skipped: 0, cases: [kase('a', 'passed'), kase('b', 'failed')] };
const shard2: Summary = { runDir: 'runs/b', passed: 1, failed: 0, skipped: 1, cases: [kase('c', 'passed'), kase('d', 'failed', 1)] };

t.test('merging recomputes counts and keeps every case in shard order', async (t) => {
  const m = mergeSummaries([shard1, shard2]);
  t.same([m.passed, m.failed, m.skipped], [2, 1, 1]);
  t.same(m.cases.map((c) => c.name), ['a', 'b', 'c', 'd']);
  t.same(m.runDirs, ['runs/a', 'runs/b']);
  const xml = junitXml(asCaseResults(m));
  t.match(xml, /<testsuites tests="4" failures="1" errors="0" skipped="1"/);
  t.match(xml, /<skipped message="known failure: bug 1">/);
});

t.test("shards of several stacks merge side by side, each case's classname its stack's", async (t) => {
  const onStack = (stack: string): Summary => ({ runDir: `runs/${stack}`, passed: 1, failed: 0, skipped: 0, cases: [{ ...kase('a', 'passed'), stack }] });
  const xml = junitXml(asCaseResults(mergeSummaries([onStack('debian-12'), onStack('newest')])));
  t.match(xml, /classname="clogtest\.debian-12" name="a@debian-12"/);
  t.match(xml, /classname="clogtest\.newest" name="a@newest"/);
});

t.test('input that is not a summary is refused with the file name', async (t) => {
  t.throws(() => parseSummary('{', 'x.json'), { exitCode: 2, message: /^x\.json: not JSON/ });
  t.throws(() => parseSummary('{"cases": [{"name": "a", "outcome": "weird"}]}', 'y.json'), {
    exitCode: 2,
    message: 'y.json: case 1 has no name or no outcome passed/failed/known failure/known failure not hit/unexpectedly passed/inconclusive/infra',
  });
  t.equal(parseSummary('{"cases": [{"name": "a", "outcome": "inconclusive"}]}', 'z.json').cases[0]!.outcome, 'inconclusive', 'an inconclusive case is a case of the summary');
});

t.test('clogtest merge-results writes JSON and JUnit and ends with the counts', async (t) => {
  const dir = tempDir(t, 'merge-');
  writeFileSync(join(dir, '1.json'), JSON.stringify(shard1));
  writeFileSync(join(dir, '2.json'), JSON.stringify(shard2));
  const r = spawnSync(join(repoRoot, 'clogtest'), ['merge-results', '--json', join(dir, 'm.json'), '--junit', join(dir, 'm.xml'), join(dir, '1.json'), join(dir, '2.json')], { encoding: 'utf8' });
  t.equal(r.status, 1, 'a failure in any shard fails the merge');
  t.equal(r.stdout, '2 passed, 1 failed, 1 skipped\n');
  t.equal((JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8')) as Summary).cases.length, 4);
  t.match(readFileSync(join(dir, 'm.xml'), 'utf8'), /^<\?xml/);
});

import t from 'tap';
import { junitXml, jsonSummary, summaryLine, tally, xmlEscape } from '../../../harness/report/junit.ts';
import type { CaseResult } from '../../../harness/run/run-case.ts';

const base = { file: 'cases/x.yaml', tags: [], iteration: 1, seed: 1, dir: '/runs/r/x', verdicts: [], durationMs: 1500 };
const results: CaseResult[] = [
  { ...base, name: 'ok-case', status: 'passed', outcome: 'passed' },
  { ...base, name: 'bad', status: 'failed', outcome: 'failed', message: 'legs-converge violated (regions 3): <leg0> & "leg1"' },
  { ...base, name: 'infra', status: 'infra', outcome: 'infra', message: 'infrastructure: ssh lost' },
  { ...base, name: 'known', status: 'failed', outcome: 'known failure', message: 'x', known: { bugs: [1], intermittent: false, description: 'bug 1', hit: 'bug 1', explained: [], unexplained: [] } },
  { ...base, name: 'ok-case', iteration: 2, status: 'passed', outcome: 'unexpectedly passed', known: { bugs: [2], intermittent: false, description: 'bug 2', hit: '', explained: [], unexplained: [] } },
];

t.test('JUnit XML: counts, escaping, one testcase per run', async (t) => {
  const xml = junitXml(results);
  t.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites tests="5" failures="1" errors="1" skipped="1" time="7.500">/);
  t.equal(xml.match(/<testcase /g)?.length, 5);
  t.match(xml, /<failure message="legs-converge violated \(regions 3\): &lt;leg0&gt; &amp; &quot;leg1&quot;" type="check-failed">/);
  t.match(xml, /<error message="infrastructure: ssh lost" type="infrastructure">/);
  t.match(xml, /<skipped message="known failure: bug 1">/);
  t.match(xml, /name="ok-case #2"/);
  // Balanced tags: every opened element is closed.
  for (const tag of ['testsuites', 'testsuite', 'testcase']) {
    t.equal(xml.match(new RegExp(`<${tag}[ >]`, 'g'))?.length, xml.match(new RegExp(`</${tag}>`, 'g'))?.length, tag);
  }
  t.equal(xmlEscape('a\u0001b'), 'ab');
});

t.test('tally and the final line', async (t) => {
  t.equal(summaryLine(tally(results.map((r) => r.outcome))), '2 passed, 2 failed, 1 skipped');
  const json = JSON.parse(jsonSummary('/runs/r', results));
  t.equal(json.cases[4].outcome, 'unexpectedly passed');
  t.same(json.cases[3].known.bugs, [1]);
  t.equal(json.failed, 2);
});

t.test('a known-failure case that could not be carried out is an error, not an expected failure', async (t) => {
  const stuck: CaseResult = { ...base, name: 'known-stuck', status: 'infra', outcome: 'infra', message: 'infrastructure: node3: QEMU exited', known: { bugs: [1], intermittent: false, description: 'bug 1', hit: 'bug 1', explained: [], unexplained: [] } };
  t.equal(summaryLine(tally([stuck.outcome])), '0 passed, 1 failed, 0 skipped');
  const xml = junitXml([stuck]);
  t.match(xml, /errors="1" skipped="0"/);
  t.match(xml, /<error message="infrastructure: node3: QEMU exited" type="infrastructure">/);
});

t.test('a case on a named stack: case@stack, a JUnit classname per stack, a replay that names the stack', async (t) => {
  const onStacks: CaseResult[] = [
    { ...base, name: 'healthy-sync', stack: 'debian-12', status: 'passed', outcome: 'passed' },
    { ...base, name: 'healthy-sync', stack: 'newest', status: 'passed', outcome: 'passed' },
  ];
  const xml = junitXml(onStacks);
  t.match(xml, /classname="clogtest\.debian-12" name="healthy-sync@debian-12"/);
  t.match(xml, /classname="clogtest\.newest" name="healthy-sync@newest"/);
  const json = JSON.parse(jsonSummary('/runs/r', onStacks, ['--fixes']));
  t.same(json.cases.map((c: { name: string; stack: string }) => `${c.name} ${c.stack}`), ['healthy-sync debian-12', 'healthy-sync newest']);
  t.equal(json.cases[1].replay, './clogtest run --fixes --stack newest --seed 1 cases/x.yaml');
  t.notMatch(junitXml(results), /classname="clogtest\./, 'without --stack the classname is the suite');
});

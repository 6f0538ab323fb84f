import t from 'tap';
import type { CheckName } from '../../../harness/case/schema.ts';
import type { NamedVerdict } from '../../../harness/judge/index.ts';
import type { Finding, Validity } from '../../../harness/oracle/verdict.ts';
import { caseResult } from '../../../harness/judge/result.ts';
import { caseOutcome, failsRun } from '../../../harness/case/outcome.ts';
import { describeBug, KNOWN_BUGS, knownFailureInForce } from '../../../harness/case/known-bugs.ts';
import { explainFindings } from '../../../harness/judge/known-failure.ts';
import { tally } from '../../../harness/report/junit.ts';
import { FIX_DIRS } from '../../../harness/stack/fixes.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const verdict = (check: CheckName, valid: Validity, findings: Finding[] = [], more: Partial<NamedVerdict> = {}): NamedVerdict => ({
  check,
  invariant: check,
  valid,
  detail: 'detail',
  findings: valid === false && !findings.length ? [{ kind: 'k', region: 3, message: `${check} finding` }] : findings,
  judged: [{ n: 1, what: 'things' }],
  point: 'end',
  inconclusive: false,
  ...more,
});

/** Bug 11's shape, and flush-answer-dropped's: a FLUSH unanswered with no suspend anywhere near it. */
const bug11 = { kind: 'request-timed-out', nodes: ['node2'], message: "node2 m0: FLUSH seq 41 of log [abcd] went unanswered for the whole retry timeout (dmesg line 9, 31.2 s); its log's POSTSUSPEND (seq 40, dmesg line 8) went out while it waited, and cmirrord left the log's group with it unanswered" };
const dropped = { kind: 'request-timed-out', nodes: ['node1'], message: 'node1 m0: FLUSH seq 10 of log [abcd] went unanswered for the whole retry timeout (dmesg line 4, 12.0 s)' };
/** Bug 1's shape: the crashed node's write on one leg; clear-never-cleans-synced-region's: regions left dirty. */
const legsDiffer = (node: number, region: number): Finding => ({ kind: 'legs-differ', region, nodes: [`node${node} seq 7`], message: `region ${region}: legs differ` });
const logNotClean: Finding = { kind: 'log-not-clean', message: 'in sync on every node but the disk log marks 128 of 128 regions dirty: 0-127' };
const ctx = { faultedNodes: [3] };

t.test('every bug has a title, a cause as file:function, fixes that exist, and findings to match', async (t) => {
  for (const b of KNOWN_BUGS.values()) {
    t.ok(b.title && /\.c:\w+/.test(b.cause), `bug ${b.id}: title and cause`);
    t.ok(b.findings.length > 0, `bug ${b.id}: a signature`);
    for (const f of b.fixes) t.ok(existsSync(join(FIX_DIRS.daemon, f)) || existsSync(join(FIX_DIRS.kernel, f)), `bug ${b.id}: fix ${f} is in the series`);
  }
  t.same([...KNOWN_BUGS.keys()], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
});

t.test("a known bug explains only findings of its signature's shape", async (t) => {
  const kf = { bugs: [11] };
  const e = explainFindings(kf, [verdict('requests-answered', false, [bug11, dropped])], ctx);
  t.same(e.explained.map((f) => f.bug), [11], 'the FLUSH lost in a leave is bug 11');
  t.same(e.unexplained.map((f) => f.message), [dropped.message], 'a FLUSH dropped with no suspend near it is not');
  const crash = explainFindings({ bugs: [1] }, [verdict('legs-converge', false, [legsDiffer(3, 12), logNotClean])], ctx);
  t.equal(crash.explained.length, 1, 'legs that differ in the crashed node\'s write are bug 1');
  t.same(crash.unexplained.map((f) => f.kind), ['log-not-clean'], 'a log left dirty is another failure');
  t.equal(explainFindings({ bugs: [1] }, [verdict('legs-converge', false, [legsDiffer(2, 12)])], ctx).unexplained.length, 1, 'legs that differ in a write of a node no fault touched are not bug 1');
});

t.test('a known failure with regions explains region-bound findings in those regions only', async (t) => {
  const sample = (region: number): Finding => ({ kind: 'clean-while-in-flight', region, nodes: ['node3 seq 2'], message: `sample 2: region ${region} is clean on disk while node3 seq 2 is in flight` });
  const e = explainFindings({ bugs: [9], regions: [5] }, [verdict('dirty-before-write', false, [sample(5), sample(6)])], ctx);
  t.same(e.explained.map((f) => f.message), [sample(5).message]);
  t.same(e.unexplained.map((f) => f.message), [sample(6).message]);
  t.equal(explainFindings({ bugs: [9] }, [verdict('dirty-before-write', false, [sample(6)])], ctx).unexplained.length, 0, 'without regions, any region');
  // Bug 10's write on leg 0 alone, caught in flight: its case's region only, and never another check's kind.
  const bug10 = explainFindings({ bugs: [10], regions: [5] }, [verdict('dirty-before-write', false, [sample(5), sample(6), { ...sample(5), kind: 'not-marked' }])], ctx);
  t.same(bug10.explained.map((f) => f.bug), [10]);
  t.same(bug10.unexplained.map((f) => `${f.kind} ${f.message}`), [`clean-while-in-flight ${sample(6).message}`, `not-marked ${sample(5).message}`]);
});

t.test('a failed check with no finding cannot be explained', async (t) => {
  const e = explainFindings({ bugs: [2] }, [verdict('no-hang', false, [], { findings: [] })], ctx);
  t.equal(e.unexplained.length, 1);
});

const base = { name: 'c', file: 'c.yaml', tags: [], iteration: 1, seed: 1, dir: '/runs/x/c', durationMs: 5, lastEvents: [], explainContext: ctx };

t.test('a case is failed, infra, inconclusive or passed, in that order of precedence', async (t) => {
  const run = [verdict('legs-converge', false), verdict('no-hang', false), verdict('nodes-agree', 'unknown'), verdict('kernel-clean', true)];
  const failed = caseResult({ ...base, verdicts: run, infra: 'boom' });
  t.match(failed, { status: 'failed', outcome: 'failed' });
  t.match(failed.message, /^violated: legs-converge \(1 finding\), no-hang \(1 finding\); every finding in findings.json and the run's report.html\n/);
  t.match(failed.message, /legs-converge violated \(1 finding: regions 3\)\n {4}legs-converge finding/);
  t.match(failed.message, /also: boom/);
  t.equal(caseResult({ ...base, verdicts: [verdict('kernel-clean', true)], infra: 'boom' }).outcome, 'infra');
  const silent = caseResult({ ...base, verdicts: [verdict('dirty-before-write', true, [], { judged: [{ n: 0, what: 'in-flight writes' }], inconclusive: true })] });
  t.equal(silent.outcome, 'inconclusive', 'a listed check that judged nothing is no pass');
  t.match(silent.message, /^inconclusive: dirty-before-write is listed by the case but judged nothing \(0 in-flight writes\)/);
  t.equal(caseResult({ ...base, verdicts: [verdict('kernel-clean', true)] }).outcome, 'passed');
});

t.test('a failure after a node came back to the ring unfenced is the environment\'s; a known failure stays known', async (t) => {
  const why = 'node 2 left the corosync ring 1 time(s) as node 1 saw it, and the case\'s faults took it out 0 time(s)';
  const out = caseResult({ ...base, verdicts: [verdict('legs-converge', false)], outOfModel: why });
  t.match(out, { status: 'infra', outcome: 'infra', outOfModel: why });
  t.match(out.message, /^out of the model, not a finding: node 2 left the corosync ring[^\n]*\nviolated: legs-converge/);
  const known = caseResult({ ...base, verdicts: [verdict('requests-answered', false, [bug11])], knownFailure: { bugs: [11] }, outOfModel: why });
  t.equal(known.outcome, 'known failure');
  t.equal(caseResult({ ...base, verdicts: [verdict('kernel-clean', true)], outOfModel: why }).outcome, 'passed', 'a pass is a pass');
});

t.test('a failure is the known one only when its bugs explain every finding; the message names the others', async (t) => {
  const known = caseResult({ ...base, verdicts: [verdict('requests-answered', false, [bug11])], knownFailure: { bugs: [11] } });
  t.match(known, { status: 'failed', outcome: 'known failure', known: { bugs: [11], explained: [{ bug: 11 }], unexplained: [] } });
  const two = caseResult({ ...base, verdicts: [verdict('requests-answered', false, [bug11])], knownFailure: { bugs: [9, 11] } });
  t.equal(two.known!.hit, describeBug(11), 'the bugs a run hit, not every bug in force');
  const masked = caseResult({ ...base, verdicts: [verdict('requests-answered', false, [bug11, dropped])], knownFailure: { bugs: [11] } });
  t.equal(masked.outcome, 'failed', 'another defect failing the same check is a failure of its own');
  t.match(masked.message, /^not the known failure \(bug 11 \(a FLUSH that races a suspend/);
  t.match(masked.message, /1 finding no known bug explains; 1 finding are the known ones\n {4}requests-answered: node1 m0: FLUSH seq 10/);
  const silent = caseResult({ ...base, verdicts: [verdict('no-hang', true, [], { inconclusive: true })], knownFailure: { bugs: [2] } });
  t.equal(silent.outcome, 'inconclusive', 'inconclusive is never a known failure');
});

t.test('passes of known failures: not hit when intermittent, unexpected when the bug shows every time', async (t) => {
  const pass = [verdict('no-hang', true)];
  t.equal(caseResult({ ...base, verdicts: pass, knownFailure: { bugs: [6], intermittent: true } }).outcome, 'known failure not hit');
  t.equal(caseResult({ ...base, verdicts: pass, knownFailure: { bugs: [6] } }).outcome, 'unexpectedly passed');
  t.same(tally(['passed', 'known failure', 'known failure not hit', 'unexpectedly passed', 'failed', 'inconclusive', 'infra']), { passed: 3, failed: 3, skipped: 1 });
  t.same(['passed', 'failed', 'inconclusive', 'infra'].map((o) => failsRun(o as never)), [false, true, true, false], 'infra exits 3, not 1');
  t.equal(caseOutcome('failed', { intermittent: false, explained: [], unexplained: [] }), 'failed', 'nothing explained is no known failure');
});

t.test('with --fixes, a bug whose fix is in the series is expected gone; one without a fix stays known', async (t) => {
  t.equal(knownFailureInForce({ bugs: [11] }, { fixes: true }), undefined);
  t.equal(knownFailureInForce({ bugs: [10, 3], regions: [5] }, { fixes: true }), undefined);
  // Every bug of the table has a fix; one without (99 stands for it) would stay known.
  t.same(knownFailureInForce({ bugs: [99, 3], regions: [5] }, { fixes: true }), { bugs: [99], regions: [5] });
  t.same(knownFailureInForce({ bugs: [10, 3] }, { fixes: false }), { bugs: [10, 3] });
  t.equal(knownFailureInForce(undefined, { fixes: true }), undefined);
});

import t from 'tap';
import type { CheckName } from '../../harness/case/schema.ts';
import type { NamedVerdict } from '../../harness/checks/index.ts';
import type { Validity } from '../../harness/oracle/verdict.ts';
import { caseResult, unexplainedFailures } from '../../harness/runner/result.ts';
import { tally, unexpectedlyPassed } from '../../harness/report/junit.ts';

const verdict = (check: CheckName, valid: Validity, more: Partial<NamedVerdict> = {}): NamedVerdict => ({
  check,
  invariant: check,
  valid,
  detail: 'detail',
  findings: valid === false ? [{ kind: 'k', region: 3, message: `${check} finding` }] : [],
  judged: [{ n: 1, what: 'things' }],
  point: 'end',
  inconclusive: false,
  ...more,
});
const run = [verdict('legs-converge', false), verdict('no-hang', false), verdict('nodes-agree', 'unknown'), verdict('kernel-clean', true)];

t.test('a known failure that names its checks explains only those', async (t) => {
  t.same(unexplainedFailures({ reason: 'r', checks: ['legs-converge'] }, run), ['no-hang'], 'a hang the bug does not cause is a failure of its own');
  t.same(unexplainedFailures({ reason: 'r', checks: ['legs-converge', 'no-hang'] }, run), []);
  t.same(unexplainedFailures({ reason: 'r', checks: ['nodes-agree'] }, [verdict('nodes-agree', 'unknown')]), [], 'an unknown verdict is not a failure');
});

t.test('a known failure without checks, or none at all, explains nothing away here', async (t) => {
  t.same(unexplainedFailures({ reason: 'r' }, run), []);
  t.same(unexplainedFailures(undefined, run), []);
});

const base = { name: 'c', file: 'c.yaml', tags: [], iteration: 1, seed: 1, dir: '/runs/x/c', durationMs: 5, lastEvents: [] };

t.test('a case is failed, infra, inconclusive or passed, in that order of precedence', async (t) => {
  const failed = caseResult({ ...base, verdicts: run, infra: 'boom' });
  t.equal(failed.status, 'failed');
  t.match(failed.message, /^violated: legs-converge \(1 finding\), no-hang \(1 finding\); every finding in findings.json and the run's report.html\n/);
  t.match(failed.message, /legs-converge violated \(1 finding: regions 3\)\n {4}legs-converge finding/);
  t.match(failed.message, /also: boom/);
  t.equal(caseResult({ ...base, verdicts: [verdict('kernel-clean', true)], infra: 'boom' }).status, 'infra');
  const silent = caseResult({ ...base, verdicts: [verdict('dirty-before-write', true, { judged: [{ n: 0, what: 'in-flight writes' }], inconclusive: true })] });
  t.equal(silent.status, 'inconclusive', 'a listed check that judged nothing is no pass');
  t.match(silent.message, /^inconclusive: dirty-before-write is listed by the case but judged nothing \(0 in-flight writes\)/);
  t.equal(caseResult({ ...base, verdicts: [verdict('kernel-clean', true)] }).status, 'passed');
});

t.test('known failures: only the named checks failing is the known failure; inconclusive never is', async (t) => {
  const kf = { reason: 'bug', checks: ['legs-converge', 'no-hang'] as CheckName[] };
  t.equal(caseResult({ ...base, verdicts: run, knownFailure: kf }).knownFailure, 'bug');
  const other = caseResult({ ...base, verdicts: run, knownFailure: { reason: 'bug', checks: ['legs-converge'] } });
  t.equal(other.knownFailure, undefined);
  t.match(other.message, /^not the known failure \(legs-converge\): no-hang failed too/);
  const silent = caseResult({ ...base, verdicts: [verdict('no-hang', true, { inconclusive: true })], knownFailure: kf });
  t.equal(silent.status, 'inconclusive');
  t.equal(caseResult({ ...base, verdicts: [verdict('no-hang', true)], knownFailure: kf }).knownFailure, 'bug', 'a pass of a known failure is reported as such');
});

t.test('an intermittent known failure that passes is not an unexpected pass; one that hits counts as known', async (t) => {
  const kf = { reason: 'bug', checks: ['legs-converge', 'no-hang'] as CheckName[], intermittent: true };
  const passed = caseResult({ ...base, verdicts: [verdict('no-hang', true)], knownFailure: kf });
  t.match(passed, { status: 'passed', knownFailure: 'bug', intermittent: true });
  t.equal(unexpectedlyPassed(passed), false);
  const hit = caseResult({ ...base, verdicts: run, knownFailure: kf });
  t.match(hit, { status: 'failed', knownFailure: 'bug', intermittent: true });
  t.same(tally([passed, hit]), { passed: 1, failed: 0, skipped: 1 });
  const steady = caseResult({ ...base, verdicts: [verdict('no-hang', true)], knownFailure: { reason: 'bug' } });
  t.equal(unexpectedlyPassed(steady), true, 'a bug that shows every time must show');
});

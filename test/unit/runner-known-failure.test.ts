import t from 'tap';
import type { CheckName } from '../../harness/case/schema.ts';
import { unexplainedFailures, type NamedVerdict } from '../../harness/runner/run-case.ts';

const verdict = (check: CheckName, valid: boolean | 'unknown'): NamedVerdict => ({ check, invariant: check, valid, detail: '', findings: [] });
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

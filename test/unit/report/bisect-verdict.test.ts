import t from 'tap';
import { bisectVerdict, type RunOutcome } from '../../../harness/report/bisect-verdict.ts';

const pass: RunOutcome = { case: 'c', status: 'passed', failedChecks: [] };
const fail: RunOutcome = { case: 'c', status: 'failed', failedChecks: ['clean-implies-equal'], why: 'region 3 differs' };
const infra: RunOutcome = { case: 'c', status: 'infra', failedChecks: [], why: 'node2: sshd did not answer' };

t.test('all passed is good', async (t) => {
  t.same(bisectVerdict([pass, pass, pass]), { exit: 0, summary: 'good: 3 runs passed' });
});

t.test('any check failure is bad, with the confidence and the checks', async (t) => {
  t.same(bisectVerdict([fail, pass, fail]), { exit: 1, summary: 'bad: 2/3 runs failed clean-implies-equal' });
  t.same(bisectVerdict([fail, infra, pass]), { exit: 1, summary: 'bad: 1/3 runs failed clean-implies-equal; 1 untestable' });
});

t.test('only infrastructure trouble means the revision cannot be tested', async (t) => {
  t.same(bisectVerdict([infra, pass]), { exit: 125, summary: 'skip: 1/2 runs could not be carried out (node2: sshd did not answer)' });
  t.equal(bisectVerdict([]).exit, 125);
});

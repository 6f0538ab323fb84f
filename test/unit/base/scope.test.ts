import t from 'tap';
import { Scope } from '../../../harness/base/scope.ts';

t.test('clean-ups run newest first and past failures', async (t) => {
  const order: string[] = [];
  const warnings: string[] = [];
  const scope = new Scope((l) => warnings.push(l));
  scope.defer('a', () => void order.push('a'));
  scope.defer('b', () => {
    throw new Error('boom');
  });
  scope.defer('c', async () => void order.push('c'));
  const failures = await scope.close();
  t.same(order, ['c', 'a']);
  t.same(failures, ['clean-up "b" failed: boom']);
  t.same(warnings, failures);
});

t.test('close is idempotent and refuses late registrations', async (t) => {
  let runs = 0;
  const scope = new Scope(() => {});
  scope.defer('x', () => void runs++);
  await Promise.all([scope.close(), scope.close()]);
  t.equal(runs, 1);
  t.throws(() => scope.defer('late', () => {}), /already closing/);
});

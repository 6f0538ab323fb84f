import t from 'tap';
import { CHECKS } from '../../harness/case/schema.ts';
import { CHECK_FUNCTIONS, isPureCheck } from '../../harness/oracle/checks/index.ts';

t.test('every check name but no-hang has a pure function', async (t) => {
  t.same(CHECKS.filter((n) => !isPureCheck(n)), ['no-hang']);
  for (const name of Object.keys(CHECK_FUNCTIONS)) t.ok((CHECKS as readonly string[]).includes(name), `${name} is a CheckName`);
});

t.test('registered checks never throw: a bad input is unknown', async (t) => {
  const v = await CHECK_FUNCTIONS['single-writer']({ memberships: null as never, fenced: [] });
  t.equal(v.valid, 'unknown');
  t.equal(v.invariant, 'single-writer');
});

import t from 'tap';
import { FAULT_KINDS } from '../../../harness/case/schema.ts';
import { FAULTS } from '../../../harness/run/faults/index.ts';

t.test('every fault kind the schema accepts has an implementation', async (t) => {
  t.same(Object.keys(FAULTS).sort(), [...FAULT_KINDS].sort());
  for (const k of FAULT_KINDS) t.type(FAULTS[k].start, 'function', k);
});

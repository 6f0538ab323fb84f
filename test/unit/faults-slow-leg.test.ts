import t from 'tap';
import { validateCase } from '../../harness/case/load.ts';
import { inflightWrites } from '../../harness/faults/devices.ts';

t.test('the in-flight write count is the second field of /sys/block/DEV/inflight', async (t) => {
  t.equal(inflightWrites('       0        1'), 1);
  t.equal(inflightWrites('3 0'), 0);
  t.throws(() => inflightWrites('cat: /sys/block/dm-9/inflight: No such file or directory'), /unexpected \/sys\/block\/\*\/inflight line/);
});

t.test('"slow leg busy" after a slow-leg fault is a wait on the nodes in on:', async (t) => {
  const r = validateCase('name: c\nsteps:\n  - fault: {kind: slow-leg, leg: 1, delay: 3s}\n    on: [3]\n  - wait: {until: slow leg busy}\n    on: [3]\n', 'c.yaml');
  t.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  if (r.ok) t.match(r.case.steps[1], { kind: 'wait', on: [3], wait: { kind: 'until', condition: { kind: 'slow-leg-busy' } } });
});

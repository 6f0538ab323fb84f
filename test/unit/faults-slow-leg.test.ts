import t from 'tap';
import { validateCase } from '../../harness/case/load.ts';
import { delayedWrites } from '../../harness/faults/devices.ts';

t.test('held writes are the write count of a dm-delay status line, flushes left out', async (t) => {
  t.equal(delayedWrites('0 131072 delay 0 1 0'), 1);
  t.equal(delayedWrites('0 131072 delay 2 0 1\n'), 0, 'a held flush follows data already on every leg');
  t.equal(delayedWrites('0 131072 delay 3 0 0'), 0);
  t.equal(delayedWrites('0 131072 delay 0 2'), 2, 'kernels before the flush class print two counts');
  t.throws(() => delayedWrites('0 131072 linear '), /not a dm-delay status line/);
});

t.test('"slow leg busy" after a slow-leg fault is a wait on the nodes in on:', async (t) => {
  const r = validateCase('name: c\nsteps:\n  - fault: {kind: slow-leg, leg: 1, delay: 3s}\n    on: [3]\n  - wait: {until: slow leg busy}\n    on: [3]\n', 'c.yaml');
  t.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  if (r.ok) t.match(r.case.steps[1], { kind: 'wait', on: [3], wait: { kind: 'until', condition: { kind: 'slow-leg-busy' } } });
});

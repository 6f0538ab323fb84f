import t from 'tap';
import { validateCase } from '../../../harness/case/load.ts';

t.test('"slow leg busy" after a slow-leg fault is a wait on the nodes in on:', async (t) => {
  const r = validateCase('name: c\nsteps:\n  - fault: {kind: slow-leg, leg: 1, delay: 3s}\n    on: [3]\n  - wait: {until: slow leg busy}\n    on: [3]\n', 'c.yaml');
  t.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  if (r.ok) t.match(r.case.steps[1], { kind: 'wait', on: [3], wait: { kind: 'until', condition: { kind: 'slow-leg-busy' } } });
});

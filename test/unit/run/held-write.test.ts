import t from 'tap';
import { validateCase } from '../../../harness/case/load.ts';
import { waitsForHeldWrite } from '../../../harness/run/steps.ts';

t.test('a wait for a write held in a slowed leg or log holds the freezes; no other step does', async (t) => {
  const r = validateCase(
    `name: x
description: d
steps:
  - mirror: create-in-sync
  - fault: {kind: slow-leg, leg: 1, delay: 3s}
    on: [3]
  - workload: {name: w, regions: all, duration: 5s}
  - wait: {until: slow leg busy}
    on: [3]
  - fault: crash
    on: [3]
  - wait: {until: workload w done}
  - wait: {sync: complete}
`,
    'x.yaml',
  );
  if (!r.ok) return t.fail(r.errors.join('\n'));
  t.same(r.case.steps.map(waitsForHeldWrite), [false, false, false, true, false, false, false]);
});

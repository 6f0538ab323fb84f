import t from 'tap';
import { validateCase } from '../../../harness/case/load.ts';
import { canHang } from '../../../harness/run/steps.ts';

t.test('only steps the system under test can hold up count as hangs when they run out of time', async (t) => {
  const r = validateCase(
    [
      'name: c',
      'steps:',
      '  - mirror: create',
      '  - fault: {kind: slow-leg, leg: 1, delay: 2s}',
      '    on: [2]',
      '  - wait: {until: slow leg busy}',
      '    on: [2]',
      '  - wait: {sync: complete}',
      '  - check: [no-hang]',
      '',
    ].join('\n'),
    'c.yaml',
  );
  if (!r.ok) return t.fail(r.errors.join('\n'));
  t.same(
    r.case.steps.map((s) => [s.kind, canHang(s)]),
    [
      ['mirror', true],
      ['fault', false],
      ['wait', false],
      ['wait', true],
      ['check', true],
    ],
  );
});

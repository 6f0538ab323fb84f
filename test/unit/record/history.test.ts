import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { History } from '../../../harness/record/history.ts';
import { tempDir } from '../../temp-dir.ts';

t.test('append-only JSON lines with time since start', async (t) => {
  const file = join(tempDir(t, 'hist-'), 'history.jsonl');
  let now = Date.parse('2026-01-01T00:00:00Z');
  const h = new History(file, () => now);
  now += 1500;
  h.append('fault', { node: 3, fault: 'crash' });
  now += 10;
  h.append('check', { check: 'no-hang', valid: true });
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.same(lines, [
    { t: '2026-01-01T00:00:01.500Z', ms: 1500, type: 'fault', node: 3, fault: 'crash' },
    { t: '2026-01-01T00:00:01.510Z', ms: 1510, type: 'check', check: 'no-hang', valid: true },
  ]);
  t.same(h.tail(1).map((e) => e.type), ['check']);
});

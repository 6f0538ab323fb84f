import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateCase } from '../../../harness/case/load.ts';
import type { Step } from '../../../harness/case/schema.ts';
import { newCaseContext } from '../../../harness/run/context/case-context.ts';
import { History } from '../../../harness/record/history.ts';
import { checkNoLostWrites } from '../../../harness/oracle/checks/no-lost-writes.ts';
import { decodeBlock } from '../../../harness/oracle/block-header.ts';
import { parseWriterLog } from '../../../harness/oracle/writer-log.ts';
import { divergeLegs, HOST_NODE } from '../../../harness/run/workload/diverge.ts';
import { tempDir } from '../../temp-dir.ts';

const B = 4096;

t.test('diverge-legs: leg 0 newer than leg 1 in every block, both logged as acknowledged at time zero', async (t) => {
  const dir = tempDir(t, 'clogtest-diverge-');
  const v = validateCase('name: d\ntopology: {nodes: 2, leg-size: 64KiB, region-size: 16KiB}\nsteps:\n  - diverge-legs: {regions: [1]}\n  - mirror: create\n  - workload: {block-size: 4KiB}\n', 'd.yaml');
  if (!v.ok) return t.fail(v.errors.join('\n'));
  mkdirSync(join(dir, 'disks'));
  const disks = ['leg0', 'leg1'].map((serial) => ({ serial, file: join(dir, 'disks', `${serial}.img`) }));
  for (const d of disks) writeFileSync(d.file, Buffer.alloc(64 * 1024));
  const cluster = { disks, nodes: [] } as unknown as Parameters<typeof newCaseContext>[0]['cluster'];
  const ctx = newCaseContext({ case: v.case, seed: 9, runId: 9, cluster, dir, history: new History(join(dir, 'history.jsonl')), say: () => {}, coverage: [] });
  divergeLegs(ctx, v.case.steps[0] as Extract<Step, { kind: 'diverge-legs' }>);
  const [leg0, leg1] = disks.map((d) => readFileSync(d.file));
  // Region 1 is blocks 4..7; the others stay empty.
  t.equal(decodeBlock(leg0!.subarray(0, B), 0).kind, 'empty');
  for (let b = 4; b < 8; b++) {
    t.match(decodeBlock(leg0!.subarray(b * B, (b + 1) * B), b * B), { kind: 'valid', header: { node: HOST_NODE, seq: 2 * b + 2 } });
    t.match(decodeBlock(leg1!.subarray(b * B, (b + 1) * B), b * B), { kind: 'valid', header: { node: HOST_NODE, seq: 2 * b + 1 } });
  }
  const log = join(dir, 'writes', 'diverge-legs-m0.jsonl');
  const events = parseWriterLog(readFileSync(log, 'utf8'), log);
  t.equal(events.length, 16, 'four events a block');
  t.match(ctx.history.entries(), [{ type: 'workload', workload: 'diverge-legs', mirror: 0, node: HOST_NODE, log: 'writes/diverge-legs-m0.jsonl' }]);
  // What the checks make of it: leg 0 holds the last acknowledged write; leg 1 an older one.
  const v0 = await checkNoLostWrites({ events, images: [{ source: leg0!, label: 'leg0' }], blockBytes: B, runId: 9 });
  t.equal(v0.valid, true, v0.detail);
  const v1 = await checkNoLostWrites({ events, images: [{ source: leg1!, label: 'leg1' }], blockBytes: B, runId: 9 });
  t.equal(v1.valid, false);
  t.match(v1.findings, [{ kind: 'stale', block: 4 }]);
});

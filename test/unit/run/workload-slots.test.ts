import t from 'tap';
import type { Step } from '../../../harness/case/schema.ts';
import { writerPlan } from '../../../harness/run/workload/slots.ts';

type WorkloadStep = Extract<Step, { kind: 'workload' }>;

const workload = (line: number, writers: number, mirror: number, on?: number[]): WorkloadStep => ({
  kind: 'workload',
  line,
  afterMs: 0,
  timeoutMs: 60_000,
  ...(on ? { on } : {}),
  workload: { name: `w${line}`, writers, depth: 1, blockSize: 4096, regions: { kind: 'list', regions: [5] }, count: 1, readers: false, statusLoop: false, mirror },
});

t.test('every writer of every workload owns its own slot of its mirror, and its own writer number', async (t) => {
  const held = workload(10, 1, 0, [3]);
  const other = workload(11, 1, 1);
  const touch = workload(12, 2, 0, [2]);
  const all = workload(13, 1, 0);
  const steps: Step[] = [{ kind: 'mirror', line: 9, afterMs: 0, timeoutMs: 60_000, op: 'create' }, held, other, touch, all];
  t.same(writerPlan(steps, held, 3), { slotBase: 0, slotCount: 6, seqBase: 0 });
  t.same(writerPlan(steps, other, 3), { slotBase: 0, slotCount: 3, seqBase: 1 }, 'another mirror has slots of its own');
  t.same(writerPlan(steps, touch, 3), { slotBase: 1, slotCount: 6, seqBase: 2 });
  t.same(writerPlan(steps, all, 3), { slotBase: 3, slotCount: 6, seqBase: 4 }, 'a workload on every node counts every node of the topology');
  t.throws(() => writerPlan(steps, workload(14, 1, 0), 3), /line 14 is not one of the case's steps/);
});

t.test('one workload alone: the slots of its own writers, as before', async (t) => {
  const w = workload(10, 2, 0);
  t.same(writerPlan([w], w, 3), { slotBase: 0, slotCount: 6, seqBase: 0 });
});

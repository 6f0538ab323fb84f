import t from 'tap';
import { validateCase } from '../../../harness/case/load.ts';
import { drawSchedule, expandSchedule, resolveSeed } from '../../../harness/case/schedule.ts';
import { seededRandom as mulberry32 } from '../../../harness/base/random.ts';
import { recoveryOf, type SchedulableFault } from '../../../harness/case/fault-kinds.ts';
import type { Case } from '../../../harness/case/schema.ts';

function load(source: string): Case {
  const result = validateCase(source, 'r.yaml');
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.case;
}

const random = load(`name: r
topology: {nodes: 4, legs: 3}
schedule:
  kind: random
  duration: 2m
  interval: 4s
  hold: 3s
  faults: [crash, kill-daemon, pause, partition, net-loss, net-delay, fail-leg, slow-leg, fail-log, {kind: isolate, on: [2, 3]}]
steps:
  - mirror: create
  - workload: {duration: 2m}
  - schedule: run
    after: 1s
  - wait: {until: workloads done}
`);

t.test('mulberry32 is a fixed sequence in [0, 1)', async (t) => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  const xs = Array.from({ length: 1000 }, () => a());
  t.same(xs, Array.from({ length: 1000 }, () => b()));
  t.ok(xs.every((x) => x >= 0 && x < 1));
  t.not(mulberry32(43)(), xs[0]);
});

t.test('the same seed replays the same schedule; another seed draws another', async (t) => {
  const one = expandSchedule(random, 1234);
  t.same(expandSchedule(random, 1234), one);
  t.notSame(expandSchedule(random, 1235).steps, one.steps);
  const distinct = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((s) => JSON.stringify(expandSchedule(random, s).steps)));
  t.equal(distinct.size, 8);
});

t.test('drawn faults come in fault/recovery pairs within the duration', async (t) => {
  for (let seed = 0; seed < 50; seed++) {
    const steps = drawSchedule(random.schedule!, random.topology, seed, 12);
    t.ok(steps.length >= 2 && steps.length % 2 === 0, `seed ${seed}: pairs`);
    const total = steps.reduce((sum, s) => sum + s.afterMs, 0);
    t.ok(total <= random.schedule!.durationMs, `seed ${seed}: ${total} ms fits`);
    for (let i = 0; i < steps.length; i += 2) {
      const [fault, recovery] = [steps[i]!, steps[i + 1]!];
      t.equal(recovery.fault.kind, recoveryOf(fault.fault.kind as SchedulableFault));
      t.same(recovery.on, recovery.fault.kind === 'heal' ? undefined : fault.on);
      t.equal(fault.line, 12);
      if (fault.fault.kind === 'isolate') t.ok([2, 3].includes(fault.on![0]!) && fault.on!.length === 1);
      if (fault.fault.kind === 'crash') t.ok(fault.on!.length === 1 && fault.on![0]! >= 1 && fault.on![0]! <= 4);
      if (fault.fault.kind === 'partition') {
        const nodes = fault.fault.groups.flat().sort();
        t.same(nodes, [1, 2, 3, 4]);
        t.equal(fault.fault.groups[0]!.length, 1, 'minority of one among four');
      }
      if (fault.fault.kind === 'fail-leg' || fault.fault.kind === 'slow-leg') {
        t.ok(fault.fault.leg >= 0 && fault.fault.leg < 3);
        t.same(recovery.fault, { kind: 'restore-leg', leg: fault.fault.leg });
      }
    }
  }
});

t.test('the schedule step is replaced in place and keeps its own delay', async (t) => {
  const expanded = expandSchedule(random, 99);
  t.same(expanded.steps.slice(0, 2), random.steps.slice(0, 2));
  t.same(expanded.steps.at(-1), random.steps.at(-1));
  t.notOk(expanded.steps.some((s) => s.kind === 'schedule'));
  const first = drawSchedule(random.schedule!, random.topology, 99, random.steps[2]!.line)[0]!;
  t.equal(expanded.steps[2]!.afterMs, first.afterMs + 1000);
  const plain = load('name: p\nsteps:\n  - mirror: create\n');
  t.equal(expandSchedule(plain, 5), plain);
});

t.test('the seed comes from --seed, else the case, else is drawn', async (t) => {
  t.same(resolveSeed(7, 9), { seed: 9, from: '--seed' });
  t.same(resolveSeed(7, undefined), { seed: 7, from: 'case' });
  const drawn = resolveSeed(undefined, undefined);
  t.equal(drawn.from, 'drawn');
  t.ok(Number.isInteger(drawn.seed) && drawn.seed >= 0 && drawn.seed < 2 ** 32);
});

t.test('a schedule too short for one fault is refused', async (t) => {
  const result = validateCase(
    'name: s\nschedule: {kind: random, duration: 10s, faults: [crash]}\nsteps:\n  - schedule: run\n',
    's.yaml',
  );
  t.same(result.ok ? [] : result.errors, [
    's.yaml:2:36: schedule duration 10s is too short for one fault: it needs at least 15s (3/2 of interval + hold)',
  ]);
});

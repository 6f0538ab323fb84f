import t from 'tap';
import { startLaps } from '../../../harness/record/laps.ts';

t.test('each lap is the time since the one before, in the order they ran', async (t) => {
  let clock = 1_000;
  const laps = startLaps(() => clock);
  clock += 250;
  laps.lap('heal');
  clock += 0;
  laps.lap('observers');
  clock += 3_000;
  laps.lap('workloads');
  t.same(laps.parts, { heal: 250, observers: 0, workloads: 3_000 });
  t.same(Object.keys(laps.parts), ['heal', 'observers', 'workloads']);
});

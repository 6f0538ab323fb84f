/** Drawn scenarios: valid cases whatever the seed, the same for the same seed, and reductions that stay valid and smaller. */
import t from 'tap';
import { validateCase } from '../../../harness/case/load.ts';
import { faultSpec } from '../../../harness/case/fault-kinds.ts';
import { drawScenario, scenarioReductions } from '../../../harness/explore/draw.ts';
import { caseSteps, caseText, isMirrorOp, listedChecks, type Scenario } from '../../../harness/explore/scenario.ts';

const draw = (seed: number) => drawScenario({ seed, name: `explore-${seed}`, origin: 'drawn in a unit test', tokenMs: 3000 });

t.test('every draw, and every reduction of it, is a case the loader takes', async (t) => {
  const refused: string[] = [];
  for (let seed = 0; seed < 400; seed++) {
    const s = draw(seed);
    for (const c of [s, ...scenarioReductions(s)]) {
      const v = validateCase(caseText(c), `${c.name}.yaml`);
      if (!v.ok) refused.push(...v.errors);
    }
  }
  t.same(refused.slice(0, 5), []);
});

t.test('the same seed draws the same scenario; the draw covers the vocabulary', async (t) => {
  t.equal(caseText(draw(42)), caseText(draw(42)));
  t.not(caseText(draw(42)), caseText(draw(43)));
  const all = Array.from({ length: 400 }, (_, i) => draw(i));
  const actions = new Set(all.flatMap((s) => s.events.map((e) => e.action)));
  t.equal(actions.size, 11, `actions drawn: ${[...actions].join(', ')}`);
  t.same([...new Set(all.map((s) => s.nodes))].sort(), [2, 3, 4, 5, 8]);
  t.ok(all.some((s) => s.events.some((e) => e.moment === 'held-write')) && all.some((s) => s.events.some((e) => e.moment === 'during-resync')));
  t.ok(all.some((s) => s.events.some((e) => e.overlapsNext)), 'some events overlap');
  t.ok(all.some((s) => s.workload.depth >= 32) && all.some((s) => s.logType === 'clustered-core'));
  t.notOk(actions.has('isolate' as never), 'no unfenced partition: the logs would differ by design');
});

t.test('a pause is drawn shorter than two thirds of the token: a longer one evicts the node, which goes on unfenced', async (t) => {
  for (const tokenMs of [undefined, 1200, 10_000]) {
    const pauses = Array.from({ length: 400 }, (_, seed) => drawScenario({ seed, name: `p-${seed}`, origin: 'unit test', tokenMs: tokenMs ?? 3000 }))
      .flatMap((s) => s.events.filter((e) => e.action === 'pause'));
    t.ok(pauses.length > 20, `${pauses.length} pauses drawn`);
    const most = ((tokenMs ?? 3000) * 2) / 3;
    t.same(pauses.filter((e) => e.holdMs > most || e.holdMs <= 0).map((e) => e.holdMs), [], `token ${tokenMs ?? 'default'}: every pause at most ${most} ms`);
  }
});

t.test('an event waits for a held write only while its node still has the slowed leg', async (t) => {
  const loses = (x: Scenario['events'][number], node: number) => x.on.includes(node) && (['crash', 'reset'].includes(x.action) || (x.action === 'fail-leg' && x.param === 1));
  let held = 0;
  for (let seed = 0; seed < 2000; seed++) {
    const s = draw(seed);
    for (const c of [s, ...scenarioReductions(s)]) {
      c.events.forEach((e, i) => {
        if (e.moment !== 'held-write') return;
        held++;
        if (c.events.slice(0, i).some((x) => loses(x, e.on[0]!))) t.fail(`${c.name}: event ${i + 1} waits for a held write on node ${e.on[0]}, whose slowed leg an earlier event took away`);
      });
    }
  }
  t.ok(held > 100, `${held} events wait for a held write`);
});

t.test('two overlapping events that take nodes out of the ring leave a majority up', async (t) => {
  const ring = ['crash', 'reset', 'pause', 'kill-corosync'];
  let overlaps = 0;
  for (let seed = 0; seed < 2000; seed++) {
    const s = draw(seed);
    s.events.forEach((e, i) => {
      const next = s.events[i + 1];
      if (!e.overlapsNext || !next) return;
      overlaps++;
      const out = [e, next].filter((x) => ring.includes(x.action)).reduce((n, x) => n + x.on.length, 0);
      if (s.nodes - out <= s.nodes / 2) t.fail(`${s.name}: ${e.action} and ${next.action} overlap on ${s.nodes} nodes`);
    });
  }
  t.ok(overlaps > 20, `${overlaps} overlaps drawn`);
});

t.test('an event during the resync gets its moment by construction: leg 1 slowed everywhere before the create', async (t) => {
  const all = Array.from({ length: 300 }, (_, i) => draw(i)).filter((s) => s.create === 'create');
  t.ok(all.length > 20, `${all.length} scenarios resync`);
  for (const s of all) {
    const steps = caseSteps(s).map((x) => JSON.stringify(x));
    t.equal(s.events[0]!.moment, 'during-resync', `${s.name}: its first event lands in the resync`);
    t.equal(s.slowLeg, undefined, `${s.name}: no write held in a slowed leg of one node`);
    t.match(steps[0], /"kind":"slow-leg","leg":1/, `${s.name}: leg 1 slowed on every node first`);
    t.notMatch(steps[0], /"on"/);
    t.equal(steps[1], '{"mirror":"create"}');
    t.ok(steps.some((x) => x.includes('"kind":"restore-leg","leg":1')), `${s.name}: leg 1 restored after the events`);
  }
});

t.test('the writers outlast every event, a restarted node\'s boot included', async (t) => {
  let crashes = 0;
  for (let seed = 0; seed < 300; seed++) {
    const s = draw(seed);
    const restarts = s.events.filter((e) => e.action === 'crash' || e.action === 'reset').length;
    if (!restarts) continue;
    crashes++;
    const needS = s.events.reduce((n, e) => n + e.afterMs + e.holdMs, 0) / 1000 + 30 * restarts;
    t.ok(s.workload.durationS >= Math.min(120, needS), `${s.name}: writers ${s.workload.durationS} s, events and boots ${needS} s`);
  }
  t.ok(crashes > 0);
});

t.test('network faults are drawn below what evicted a node: a twelfth of the token in delay, 30 % in loss', async (t) => {
  let seen = 0;
  for (let seed = 0; seed < 300; seed++) {
    for (const e of draw(seed).events) {
      if (e.action === 'net-delay') t.ok(e.param! >= 50 && e.param! <= 250, `seed ${seed}: delay ${e.param} ms`), seen++;
      if (e.action === 'net-loss') t.ok(e.param! >= 10 && e.param! <= 30, `seed ${seed}: loss ${e.param} %`), seen++;
    }
  }
  t.ok(seen > 0, `${seen} network faults drawn`);
});

t.test('a check is listed only where the scenario guarantees its evidence', async (t) => {
  for (let seed = 0; seed < 200; seed++) {
    const s = draw(seed);
    const checks = listedChecks(s);
    const delays = s.events.some((e) => !isMirrorOp(e.action) && faultSpec(e.action).delaysAnswers);
    t.equal(checks.includes('requests-answered'), !delays, `${s.name}: requests-answered only with no fault that may delay an answer`);
    t.equal(checks.includes('no-stale-reads'), s.workload.readers);
    if (s.logType === 'clustered-core') t.notOk(checks.includes('clean-implies-equal'), 'no disk-log check on a core log');
    t.notOk(checks.includes('dirty-before-write'), 'dirty-before-write relies on a sample catching a write: never listed');
    const restarted = new Set(s.events.flatMap((e) => (e.action === 'crash' || e.action === 'reset' ? e.on : [])));
    if (restarted.size === s.nodes) t.notOk(checks.includes('marked-before-write'), `${s.name}: every node restarted, no trace of the writes kept`);
  }
  const both: Scenario = { ...draw(7), create: 'create-in-sync', nodes: 2, events: ['crash', 'reset'].map((action, i) => ({ action: action as 'crash' | 'reset', on: [i + 1], role: 'other' as const, moment: 'during-writes' as const, afterMs: 2000, holdMs: 4000, recover: true, overlapsNext: false })) };
  t.notOk(listedChecks(both).includes('marked-before-write'), 'a crash of node 1 and a reset of node 2 leave no trace of the writes');
  t.ok(listedChecks({ ...both, events: both.events.slice(0, 1) }).includes('marked-before-write'), 'node 2 kept its trace');
});

t.test('every reduction is smaller, and a recovery never outlives its fault', async (t) => {
  const size = (s: Scenario) => caseSteps(s).length + s.nodes + s.legs + s.workload.writers + s.workload.depth + s.workload.durationS + s.legSizeMiB + s.events.reduce((n, e) => n + e.afterMs + e.holdMs, 0) / 1000 + (s.workload.readers ? 1 : 0) + (s.workload.regions === 'own' ? 0 : 1) + (s.create === 'create' ? 1 : 0) + s.events.filter((e) => e.overlapsNext).length;
  const s = draw(7);
  for (const r of scenarioReductions(s)) t.ok(size(r) < size(s), `a reduction of ${s.name} is smaller`);
  const crash: Scenario = { ...s, slowLeg: undefined, events: [{ action: 'crash', on: [2], role: 'other', moment: 'during-writes', afterMs: 2000, holdMs: 4000, recover: true, overlapsNext: false }] };
  const steps = caseSteps(crash).map((x) => JSON.stringify(x));
  t.ok(steps.some((x) => x.includes('"fault":"crash"')) && steps.some((x) => x.includes('"fault":"restart-node"')));
  for (const r of scenarioReductions(crash)) {
    const rs = caseSteps(r).map((x) => JSON.stringify(x));
    t.ok(!rs.some((x) => x.includes('restart-node')) || rs.some((x) => x.includes('"fault":"crash"')), 'restart-node never without its crash');
  }
  t.ok(
    scenarioReductions(crash).some((r) => r.events.length === 1 && !r.events[0]!.recover),
    'a cut may leave the crash undone',
  );
});

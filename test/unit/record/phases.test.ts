import t from 'tap';
import type { HistoryEntry } from '../../../harness/record/history.ts';
import { casePhases, describePhases, medianOverheadMs } from '../../../harness/record/phases.ts';

const e = (ms: number, type: HistoryEntry['type'], fields: Record<string, unknown>): HistoryEntry => ({ t: '', ms, type, ...fields });

t.test('a case\'s time, phase by phase, from its history', async (t) => {
  const p = casePhases([
    e(0, 'info', { what: 'case start' }),
    e(30_000, 'info', { what: 'cluster up', timings: { qemu: 200, ssh: 18_000, quorum: 9_000, daemon: 2_800, total: 30_000 } }),
    e(36_000, 'step', { step: 1, kind: 'mirror', event: 'done', durationMs: 6_000 }),
    e(44_000, 'step', { step: 2, kind: 'wait', event: 'done', durationMs: 8_000 }),
    e(45_000, 'step', { step: 3, kind: 'workload', event: 'done', durationMs: 1_000 }),
    e(65_000, 'step', { step: 4, kind: 'wait', event: 'done', durationMs: 20_000 }),
    e(65_001, 'step', { step: 5, kind: 'check', event: 'start' }),
    e(65_500, 'info', { what: 'end checks', windDownMs: { heal: 100, observers: 300, workloads: 99 } }),
    e(72_000, 'evidence', { point: 'end', partsMs: { sync: 100, clocks: 800, status: 2_000, kernel: 1_000, logs: 2_000, freeze: 600 } }),
    e(77_500, 'info', { what: 'tear-down done' }),
    e(80_000, 'check', { point: 'end', check: 'no-hang' }),
    e(80_100, 'info', { what: 'case end', durationMs: 80_100 }),
  ]);
  t.same(p, { qemuMs: 200, sshMs: 18_000, quorumMs: 9_000, daemonMs: 2_800, restored: false, steps: { mirror: 6_000, wait: 28_000, workload: 1_000 }, evidenceMs: 6_999, evidenceParts: { 'wind-down': 499, sync: 100, clocks: 800, status: 2_000, kernel: 1_000, logs: 2_000, freeze: 600 }, windDownParts: { heal: 100, observers: 300, workloads: 99 }, judgeMs: 2_500, teardownMs: 5_500, totalMs: 80_100, ownMs: 0 });
  t.equal(describePhases(p), 'boot 30.0s (ssh 18.0, quorum 9.0, cmirrord 2.8) | steps 35.0s (wait 28.0, mirror 6.0, workload 1.0) | end evidence 7.0s (wind-down 0.5 (heal 0.1, observers 0.3, workloads 0.1), sync 0.1, clocks 0.8, status 2.0, kernel 1.0, logs 2.0, freeze 0.6) | tear-down 5.5s | judging 2.5s | total 80.1s, of which the case\'s own 0.0s, overhead 80.1s');
  t.match(describePhases({ ...p, restored: true }), /^restore 30\.0s \(load 0\.2, ssh 18\.0, check 11\.8\) \| steps/, 'a restored cluster says so');
});

t.test('a step that hung counts as its kind up to the hang, not as end evidence', async (t) => {
  const p = casePhases([
    e(0, 'info', { what: 'case start' }),
    e(20_000, 'info', { what: 'cluster up', timings: { qemu: 200, ssh: 10_000, quorum: 8_000, daemon: 1_800, total: 20_000 } }),
    e(20_000, 'step', { step: 1, kind: 'wait', event: 'start' }),
    e(80_000, 'error', { what: 'wait sync', step: 1, error: 'timed out after 60s' }),
    e(80_000, 'hang', { what: 'step 1 (line 9: wait sync): timed out after 60s', step: 1 }),
    e(81_000, 'info', { what: 'end checks' }),
    e(97_000, 'evidence', { point: 'end' }),
    e(98_000, 'info', { what: 'tear-down done' }),
    e(98_100, 'check', { point: 'end', check: 'no-hang' }),
    e(98_200, 'info', { what: 'case end', durationMs: 98_200 }),
  ]);
  t.same(p.steps, { wait: 60_000 });
  t.equal(p.evidenceMs, 17_000);
});

t.test('the case\'s own time: its after:s, sleeps and longest workload; the rest is overhead', async (t) => {
  const steps = [
    { kind: 'mirror', afterMs: 0 },
    { kind: 'workload', afterMs: 0, workload: { durationMs: 20_000 } },
    { kind: 'workload', afterMs: 0, workload: { count: 10 } },
    { kind: 'fault', afterMs: 5_000 },
    { kind: 'fault', afterMs: 3_000 },
    { kind: 'wait', afterMs: 0, wait: { kind: 'sleep', ms: 2_000 } },
    { kind: 'wait', afterMs: 1_000, wait: { kind: 'sync' } },
  ];
  const p = casePhases([
    e(0, 'info', { what: 'case start', case: { steps } }),
    e(70_000, 'info', { what: 'case end', durationMs: 70_000 }),
  ]);
  t.equal(p.ownMs, 31_000);
  t.match(describePhases(p), /total 70\.0s, of which the case's own 31\.0s, overhead 39\.0s$/);
  t.equal(medianOverheadMs([p, { ...p, totalMs: 41_000 }, { ...p, totalMs: 100_000 }]), 39_000);
  t.equal(medianOverheadMs([p, { ...p, totalMs: 41_000 }]), 24_500);
  t.equal(medianOverheadMs([]), undefined);
});

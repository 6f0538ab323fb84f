/**
 * `schedule: random` -> plain fault steps, drawn from a seed. The runner never sees the
 * menu: it runs the expanded steps, so a replay with the same seed is the same run script.
 */
import { randomInt } from 'node:crypto';
import { seededRandom } from '../base/random.ts';
import { recoveryOf } from './fault-kinds.ts';
import { DEFAULT_TIMEOUT_MS, type Case, type Fault, type MenuEntry, type NodeId, type RandomSchedule, type Step, type Topology } from './schema.ts';

type FaultStep = Extract<Step, { kind: 'fault' }>;

export interface ResolvedSeed {
  seed: number;
  from: '--seed' | 'case' | 'drawn';
}

/** `--seed` beats the case's seed; with neither, a fresh one, which the caller must print so the run can be replayed. */
export function resolveSeed(caseSeed: number | undefined, cliSeed: number | undefined): ResolvedSeed {
  if (cliSeed !== undefined) return { seed: cliSeed >>> 0, from: '--seed' };
  if (caseSeed !== undefined) return { seed: caseSeed, from: 'case' };
  return { seed: randomInt(2 ** 32), from: 'drawn' };
}

/**
 * Faults one after another, never overlapping: a gap, the fault, a hold, its recovery.
 * Each fault is undone before the next starts, so the cluster is whole again when the
 * schedule ends and a failure can be pinned on one fault.
 */
export function drawSchedule(schedule: RandomSchedule, topology: Topology, seed: number, line: number): FaultStep[] {
  const rand = seededRandom(seed);
  const around = (mean: number) => Math.round(mean / 2 + rand() * mean);
  const steps: FaultStep[] = [];
  let elapsed = 0;
  for (;;) {
    const gap = around(schedule.intervalMs);
    const hold = around(schedule.holdMs);
    if (elapsed + gap + hold > schedule.durationMs) break;
    elapsed += gap + hold;
    const entry = schedule.faults[Math.floor(rand() * schedule.faults.length)]!;
    const { fault, on, recovery } = instantiate(entry, topology, rand);
    const step = (f: Fault, afterMs: number): FaultStep => ({
      kind: 'fault',
      line,
      ...(on && f.kind !== 'heal' && f.kind !== 'partition' && { on }),
      afterMs,
      timeoutMs: DEFAULT_TIMEOUT_MS.fault,
      fault: f,
    });
    steps.push(step(fault, gap), step(recovery, hold));
  }
  return steps;
}

function instantiate(entry: MenuEntry, topology: Topology, rand: () => number): { fault: Fault; on?: NodeId[]; recovery: Fault } {
  const all = Array.from({ length: topology.nodes }, (_, i) => i + 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const mirror = entry.mirror !== undefined ? { mirror: entry.mirror } : {};
  switch (entry.kind) {
    case 'crash':
    case 'reset':
    case 'pause':
    case 'kill-daemon':
    case 'kill-corosync':
    case 'isolate':
      return { fault: { kind: entry.kind }, on: [pick(entry.on ?? all)], recovery: { kind: recoveryOf(entry.kind) } as Fault };
    case 'partition': {
      if (entry.groups) return { fault: { kind: 'partition', groups: entry.groups }, recovery: { kind: 'heal' } };
      const shuffled = [...all];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const minority = between(1, Math.max(1, Math.floor((all.length - 1) / 2)));
      const groups = [shuffled.slice(0, minority), shuffled.slice(minority)].map((g) => g.sort((a, b) => a - b));
      return { fault: { kind: 'partition', groups }, recovery: { kind: 'heal' } };
    }
    case 'net-loss':
      return { fault: { kind: 'net-loss', percent: entry.percent ?? between(10, 50) }, on: entry.on, recovery: { kind: 'heal' } };
    case 'net-delay':
      return {
        fault: { kind: 'net-delay', delayMs: entry.delayMs ?? between(50, 500) },
        on: entry.on,
        recovery: { kind: 'heal' },
      };
    case 'fail-leg': {
      const leg = entry.leg ?? between(0, topology.legs - 1);
      return { fault: { kind: 'fail-leg', leg, ...mirror }, on: entry.on, recovery: { kind: 'restore-leg', leg, ...mirror } };
    }
    case 'slow-leg': {
      const leg = entry.leg ?? between(0, topology.legs - 1);
      const delayMs = entry.delayMs ?? between(50, 500);
      return { fault: { kind: 'slow-leg', leg, delayMs, ...mirror }, on: entry.on, recovery: { kind: 'restore-leg', leg, ...mirror } };
    }
    case 'fail-log':
      return { fault: { kind: 'fail-log', ...mirror }, on: entry.on, recovery: { kind: 'restore-log', ...mirror } };
    case 'slow-log': {
      const delayMs = entry.delayMs ?? between(50, 500);
      return { fault: { kind: 'slow-log', delayMs, ...mirror }, on: entry.on, recovery: { kind: 'restore-log', ...mirror } };
    }
  }
}

/** The case with its `schedule: run` step replaced by the faults drawn from `seed`. */
export function expandSchedule(c: Case, seed: number): Case {
  if (!c.schedule) return c;
  const schedule = c.schedule;
  const steps = c.steps.flatMap((s) => {
    if (s.kind !== 'schedule') return [s];
    const drawn = drawSchedule(schedule, c.topology, seed, s.line);
    if (drawn[0]) drawn[0] = { ...drawn[0], afterMs: drawn[0].afterMs + s.afterMs };
    return drawn;
  });
  return { ...c, steps };
}

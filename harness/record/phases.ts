/**
 * Where a case's time went, from its history alone (pure): bring-up phase by phase, its steps by kind,
 * and the end (gathering the evidence, judging, tearing down). What to cut is judged by this table.
 */
import type { HistoryEntry } from './history.ts';
import { median } from '../base/median.ts';
import { CASE_END, CASE_START, CLUSTER_UP, END_CHECKS, TEARDOWN_DONE } from './events.ts';

export interface CasePhases {
  /** QEMU start, boot to sshd, corosync quorate, cmirrord running (the cluster's own timings). */
  qemuMs: number;
  sshMs: number;
  quorumMs: number;
  daemonMs: number;
  /** The cluster was restored from a saved one rather than booted: its phases are load, connect, check. */
  restored: boolean;
  /** Time spent in the case's steps, by step kind (mirror, wait, workload, fault, check, diverge-legs). */
  steps: Record<string, number>;
  /** From the last step to the end evidence recorded: heal, stop observing, the wait for sync, statuses, dumps, logs. */
  evidenceMs: number;
  /** Its parts: winding down (heal, stop polling and the workloads), then gathering's own parts. */
  evidenceParts: Record<string, number>;
  /** Winding down's own parts: a hung step's task dumps, healing, stopping the observers, stopping the workloads. */
  windDownParts: Record<string, number>;
  /** Stopping the cluster, right after the end evidence. */
  teardownMs: number;
  /** Judging the end point's checks from the case directory, while the next case's cluster comes up. */
  judgeMs: number;
  totalMs: number;
  /**
   * The case's own time, which no speed-up of the harness can cut: its `after:`s (with a random schedule's,
   * which hold its faults), its `wait: {sleep}`s and its longest workload `duration`. The rest of totalMs is
   * the harness's overhead.
   */
  ownMs: number;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** The loaded case's steps as 'case start' recorded them (schedule.ts has already drawn its faults). */
interface RecordedStep {
  afterMs?: unknown;
  wait?: { kind?: unknown; ms?: unknown };
  workload?: { durationMs?: unknown };
}

function ownTime(entries: readonly HistoryEntry[]): number {
  const start = entries.find((e) => e.what === CASE_START);
  const steps = ((start?.case as { steps?: unknown } | undefined)?.steps ?? []) as RecordedStep[];
  if (!Array.isArray(steps)) return 0;
  const afters = steps.reduce((sum, st) => sum + num(st.afterMs), 0);
  const sleeps = steps.reduce((sum, st) => sum + (st.wait?.kind === 'sleep' ? num(st.wait.ms) : 0), 0);
  const workload = Math.max(0, ...steps.map((st) => num(st.workload?.durationMs)));
  return afters + sleeps + workload;
}

/** Median of the harness's overhead (total minus own time) over cases, or undefined without any. */
export function medianOverheadMs(phases: readonly CasePhases[]): number | undefined {
  return median(phases.map((p) => p.totalMs - p.ownMs));
}

export function casePhases(entries: readonly HistoryEntry[]): CasePhases {
  const up = entries.find((e) => e.what === CLUSTER_UP);
  const t = (up?.timings ?? {}) as Record<string, unknown>;
  const steps: Record<string, number> = {};
  const started = new Map<unknown, HistoryEntry>();
  for (const e of entries) {
    if (e.type === 'step' && e.event === 'start') started.set(e.step, e);
    if (e.type === 'step' && e.event === 'done' && typeof e.kind === 'string') steps[e.kind] = (steps[e.kind] ?? 0) + num(e.durationMs);
    // A step that hung ends in an error event: its time up to then is still its kind's.
    const start = e.type === 'error' ? started.get(e.step) : undefined;
    if (start && typeof start.kind === 'string') steps[start.kind] = (steps[start.kind] ?? 0) + e.ms - start.ms;
  }
  const endChecks = entries.find((e) => e.what === END_CHECKS);
  // A step that hung ends in an error event, not a done: the last entry naming a step is where the steps ended.
  const lastStep = [...entries].reverse().find((e) => typeof e.step === 'number');
  const evidence = entries.find((e) => e.type === 'evidence' && e.point === 'end');
  const judged = [...entries].reverse().find((e) => e.type === 'check' && e.point === 'end');
  const teardown = entries.find((e) => e.what === TEARDOWN_DONE);
  const end = entries.find((e) => e.what === CASE_END);
  const from = lastStep ?? endChecks;
  return {
    qemuMs: num(t.qemu),
    sshMs: num(t.ssh),
    quorumMs: num(t.quorum),
    daemonMs: num(t.daemon),
    restored: typeof t.restoredFrom === 'string',
    steps,
    evidenceMs: evidence && from ? evidence.ms - from.ms : 0,
    evidenceParts: {
      ...(endChecks && from ? { 'wind-down': endChecks.ms - from.ms } : {}),
      ...((evidence?.partsMs ?? {}) as Record<string, number>),
    },
    windDownParts: (endChecks?.windDownMs ?? {}) as Record<string, number>,
    // The cluster is torn down right after the end evidence, and the end judged after that.
    teardownMs: teardown && evidence ? teardown.ms - evidence.ms : 0,
    judgeMs: judged && teardown ? judged.ms - teardown.ms : 0,
    totalMs: num(end?.durationMs) || (entries.at(-1)?.ms ?? 0),
    ownMs: ownTime(entries),
  };
}

/** One line: "boot 38.2s (ssh 22.1, quorum 13.9, cmirrord 2.1) | steps 61.0s (workload 20.3, wait 30.1, ...) | ... | total 80.1s, of which the case's own 40.0s, overhead 40.1s". */
export function describePhases(p: CasePhases): string {
  const s = (ms: number) => (ms / 1000).toFixed(1);
  const boot = p.qemuMs + p.sshMs + p.quorumMs + p.daemonMs;
  const stepTotal = Object.values(p.steps).reduce((a, b) => a + b, 0);
  const byKind = Object.entries(p.steps).sort(([, a], [, b]) => b - a).map(([k, ms]) => `${k} ${s(ms)}`).join(', ');
  const up = p.restored
    ? `restore ${s(boot)}s (load ${s(p.qemuMs)}, ssh ${s(p.sshMs)}, check ${s(p.quorumMs + p.daemonMs)})`
    : `boot ${s(boot)}s (ssh ${s(p.sshMs)}, quorum ${s(p.quorumMs)}, cmirrord ${s(p.daemonMs)})`;
  const list = (parts: Record<string, number>) => Object.entries(parts).map(([k, ms]) => `${k} ${s(ms)}`).join(', ');
  const windDown = list(p.windDownParts);
  const parts = Object.entries(p.evidenceParts).map(([k, ms]) => `${k} ${s(ms)}${k === 'wind-down' && windDown ? ` (${windDown})` : ''}`).join(', ');
  return `${up} | steps ${s(stepTotal)}s (${byKind}) | end evidence ${s(p.evidenceMs)}s${parts ? ` (${parts})` : ''} | tear-down ${s(p.teardownMs)}s | judging ${s(p.judgeMs)}s | total ${s(p.totalMs)}s, of which the case's own ${s(p.ownMs)}s, overhead ${s(p.totalMs - p.ownMs)}s`;
}

/**
 * The events of history.jsonl that checks read, with fixed shapes: a check matches fields, never the
 * prose a step happens to print. Each event also has t (ISO time), ms (since the case started, on the
 * harness host's clock: one timeline for every node) and type.
 */
import type { Case, CheckName, Fault, MirrorOp, Step } from '../case/schema.ts';
import type { CaseStatus, Outcome } from '../case/outcome.ts';
import type { FaultKind } from '../case/fault-kinds.ts';
import type { ClockReading } from '../guest/cluster/clock.ts';
import type { Timings } from '../guest/cluster/cluster.ts';
import type { History, HistoryEntry } from './history.ts';
import type { Judged, Validity } from '../oracle/verdict.ts';
import type { Point } from './layout.ts';
import type { CasePhases } from './phases.ts';

/** The first event: the case as it runs (schedule expanded), so the record judges without the YAML. */
export interface CaseStartFields {
  what: 'case start';
  case: Case;
  seed: number;
  runId: number;
  /** The stack of vm-images/stacks.yaml the run named (--stack), if it named one. */
  stack?: string;
  /** Built with every fix (--fixes): the known failure in force leaves out the bugs the fixes fix. */
  fixes?: boolean;
}

/** How the case came out, as the run decided it (case/outcome.ts caseOutcome). */
export interface CaseEndFields {
  what: 'case end';
  status: CaseStatus;
  outcome: Outcome;
  durationMs: number;
  /** The known failure in force: its bugs, and how many findings it explains and leaves unexplained. */
  known?: { bugs: number[]; explained: number; unexplained: number };
}

/** A step of the case starting or done; `mirror:` steps carry their operation, which the checks read. */
export interface StepFields {
  /** 1-based index in the case's steps (0 for a step a test runs outside them). */
  step: number;
  line?: number;
  kind: Step['kind'];
  what: string;
  event: 'start' | 'done';
  op?: MirrorOp;
  /** The nodes a mirror step acts on (absent in records kept before they were written: every node). */
  nodes?: number[];
  durationMs?: number;
}

/** A fault step, with the nodes it acted on; 'heal-all' is what every case ends its faults with. */
export interface FaultFields {
  fault: FaultKind | 'heal-all';
  nodes: number[];
  /** The fault as the case gave it (leg, mirror, delay...). */
  params?: Fault;
  event: 'start' | 'done';
  step?: number;
  line?: number;
}

/** A step or call that ran past its deadline: what no-hang reports. */
export interface HangFields {
  what: string;
  step?: number;
}

/** One workload process started: where its log is, relative to the case directory. */
export interface WorkloadStartFields {
  workload: string;
  mirror: number;
  node: number;
  proc: string;
  log: string;
  event: 'start';
}

/** What one node said in one poll during the case. */
export interface PollFields {
  node: number;
  /** Polls of every live node taken together share a round number. */
  round: number;
  /** cmirrord is running there. */
  daemon: boolean;
  /** Members of each log's CPG group (by UUID) as this node sees it; absent groups are groups it is not in. */
  groups: Record<string, number[]>;
  /** Writes completed on each log device (by UUID), as this node's kernel counts them. */
  logWrites: Record<string, number>;
  /** `dmsetup status` of the mirrors, when they were loaded. */
  status?: string;
}

/** A freeze taken while workloads ran; files relative to the case directory. */
export interface SampleFields {
  sample: number;
  mirror: number;
  /** Each live node's guest clock (CLOCK_REALTIME, ns) at the freeze, estimated (run/evidence/freeze.ts guestNowNs), by node id. */
  freezeNs: Record<string, number>;
  log: string | null;
  legs: Array<{ label: string; file: string }>;
  /** Why the freeze was taken then: a held write on a node, or a random moment. */
  trigger: string;
}

/** The evidence gathered for the checks at a point. */
export interface EvidenceFields {
  point: Point;
  live: number[];
  down: number[];
  /** Each writer log's length at the point, so the checks read only what had been written by then. */
  writerLogBytes: Record<string, number>;
  /** How long each part of gathering took, in order: sync, clocks, status, kernel, logs, freeze. */
  partsMs?: Record<string, number>;
}

export interface ClocksFields {
  readings: ClockReading[];
}

export interface CheckFields {
  check: CheckName;
  point: Point;
  valid: Validity;
  detail: string;
  judged: Judged;
  findings: number;
}

/** A malformed table a `mirror: load-invalid` step tried on a node, and what became of it. */
export interface InvalidTableFields {
  node: number;
  mirror: number;
  variant: string;
  /** The log UUID the table asked for. */
  uuid: string;
  table: string;
  /** Who should refuse it (guest/mirror/table.ts). */
  refusedBy: string;
  refused: boolean;
  /** dmsetup's error output, first 400 bytes. */
  error: string;
  leftDevice: boolean;
  step?: number;
}

export const CASE_START = 'case start';
export const CASE_END = 'case end';
export const CLUSTER_UP = 'cluster up';
export const END_CHECKS = 'end checks';
export const TEARDOWN_DONE = 'tear-down done';
export const PHASES = 'phases';
export const COVERAGE_COLLECTED = 'coverage collected';

/** With --coverage: whose counters were collected at a point, and whose were lost and why. */
export interface CoverageFields {
  point: Point;
  nodes: number[];
  lost: string[];
}

/** The cluster is up: its directory, and how long each part of its bring-up took (ms, by part). */
export interface ClusterUpFields {
  dir: string;
  timings: Timings | undefined;
}

/** The steps are over and the end's evidence is next: how long winding the case down took, by part. */
export interface EndChecksFields {
  windDownMs: Record<string, number>;
}

/** stop-daemon: whether cmirrord exited on SIGTERM or kept running (it refuses while it holds logs). */
export interface DaemonStopFields {
  node: number;
  exited: boolean;
}

/** A daemon or a node of a fault's target came back. */
export interface NodeBackFields {
  node: number;
  what: 'node rejoined' | 'corosync started' | 'cmirrord started';
}

/** Typed appends, so every writer of an event writes the shape its readers expect. */
export const events = {
  caseStart: (h: History, f: Omit<CaseStartFields, 'what'>) => h.append('info', { what: CASE_START, ...f }),
  caseEnd: (h: History, f: Omit<CaseEndFields, 'what'>) => h.append('info', { what: CASE_END, ...f }),
  clusterUp: (h: History, f: ClusterUpFields) => h.append('info', { what: CLUSTER_UP, ...f }),
  endChecks: (h: History, f: EndChecksFields) => h.append('info', { what: END_CHECKS, ...f }),
  teardownDone: (h: History) => h.append('info', { what: TEARDOWN_DONE }),
  phases: (h: History, f: CasePhases) => h.append('info', { what: PHASES, ...f }),
  coverage: (h: History, f: CoverageFields) => h.append('info', { what: COVERAGE_COLLECTED, ...f }),
  nodeBack: (h: History, f: NodeBackFields) => h.append('info', { ...f }),
  daemonStop: (h: History, f: DaemonStopFields) => h.append('info', { what: f.exited ? 'cmirrord exited on SIGTERM' : 'cmirrord kept running after SIGTERM', ...f }),
  step: (h: History, f: StepFields) => h.append('step', { ...f }),
  fault: (h: History, f: FaultFields) => h.append('fault', { ...f }),
  hang: (h: History, f: HangFields) => h.append('hang', { ...f }),
  workloadStart: (h: History, f: WorkloadStartFields) => h.append('workload', { ...f }),
  poll: (h: History, f: PollFields) => h.append('poll', { ...f }),
  sample: (h: History, f: SampleFields) => h.append('sample', { ...f }),
  evidence: (h: History, f: EvidenceFields) => h.append('evidence', { ...f }),
  clocks: (h: History, f: ClocksFields) => h.append('clocks', { ...f }),
  check: (h: History, f: CheckFields) => h.append('check', { ...f }),
  invalidTable: (h: History, f: InvalidTableFields) => h.append('table', { ...f }),
};

/** The entries of one type, as the fields that type was written with. */
export function entriesOf<F>(entries: readonly HistoryEntry[], type: HistoryEntry['type']): Array<HistoryEntry & F> {
  return entries.filter((e) => e.type === type) as Array<HistoryEntry & F>;
}

/**
 * A validated case: what load.ts returns and the runner interprets. Every default is
 * already filled in and every size and duration is a plain number (bytes, milliseconds),
 * so the runner never parses or guesses. YAML keys are kebab-case; fields here are camelCase.
 */

/** Corosync node ids; node N is `node<N>` and 192.168.77.N. The lowest live id serves the disk log. */
export type NodeId = number;

export const LOG_TYPES = ['clustered-disk', 'clustered-core'] as const;
export type LogType = (typeof LOG_TYPES)[number];

/** How a clustered-disk table names its log device: /dev/mapper path, or major:minor (cmirrord then looks it up). */
export const LOG_DEVICE_FORMS = ['path', 'devnum'] as const;
export type LogDeviceForm = (typeof LOG_DEVICE_FORMS)[number];

export const LIMITS = {
  nodes: { min: 2, max: 8 },
  legs: { min: 2, max: 4 },
  mirrors: { min: 1, max: 4 },
  /** cmirrord and the kernel disk log both want room beyond the bitmap; below 1 MiB is untested. */
  minLogSize: 1024 * 1024,
  sector: 512,
} as const;

/** dm-log-userspace's own wait for the daemon's answer before it sends a request again (15 s, DM_ULOG_RETRY_TIMEOUT). */
export const DM_ULOG_RETRY_TIMEOUT_MS = 15_000;

export const TOPOLOGY_DEFAULTS = {
  nodes: 3,
  legs: 2,
  legSize: 64 * 1024 * 1024,
  logSize: 1024 * 1024,
  regionSize: 512 * 1024,
  logType: 'clustered-disk',
  mirrors: 1,
  logRetryTimeoutMs: DM_ULOG_RETRY_TIMEOUT_MS,
  integratedFlush: false,
  logDevice: 'path',
  blockOnError: false,
} as const satisfies Topology;

export interface Topology {
  nodes: number;
  /** Mirror legs per mirror, each a separate shared virtio disk seen by every node. */
  legs: number;
  legSize: number;
  /** Shared log device per mirror; only clustered-disk has one. */
  logSize: number;
  /** Bytes; a power of two and a multiple of 512 (the table gives it in sectors). */
  regionSize: number;
  logType: LogType;
  mirrors: number;
  /**
   * How long each node's dm-log-userspace waits for an answer before it sends a request again, in whole
   * seconds (kernel-patches/dm-log-userspace-retry-timeout-param.patch); the kernel's default unless a case
   * needs the resend to come sooner.
   */
  logRetryTimeoutMs: number;
  /**
   * dm-log-userspace's `integrated_flush` table argument: the kernel sends a flush's marks as the FLUSH
   * request's payload instead of MARK_REGION requests before it.
   */
  integratedFlush: boolean;
  /** How the table names the log device (clustered-disk only): cmirrord's find_disk_path takes either. */
  logDevice: LogDeviceForm;
  /** The log's `block_on_error` argument, which cmirrord's clog_ctr accepts and keeps for the table it reports. */
  blockOnError: boolean;
}

/** Regions per mirror: dm-raid1 counts a trailing partial region as a whole one. */
export function regionCount(t: Pick<Topology, 'legSize' | 'regionSize'>): number {
  return Math.ceil(t.legSize / t.regionSize);
}

/** Header (1024 bytes) + one bit per region, rounded up to a sector: the disk log layout cmirrord writes. */
export function minLogBytes(t: Pick<Topology, 'legSize' | 'regionSize'>): number {
  const bytes = 1024 + Math.ceil(regionCount(t) / 8);
  return Math.ceil(bytes / LIMITS.sector) * LIMITS.sector;
}

/**
 * `create-in-sync` loads the table with the log's `nosync` argument: no initial resync, which under TCG
 * takes 20-40 s of 64 MiB copying. It is true only while every leg is still the fresh, zeroed disk the
 * harness made, so it must be the case's first create, before any diverge-legs; every later create or
 * reload (a restarted node, a whole cluster loading again) uses the plain table, which resyncs what
 * the log does not call clean.
 */
/**
 * `load-invalid` tries malformed tables (guest/mirror/table.ts invalidMirrorTables) beside the mirror on each
 * node, each under a log UUID of its own: the kernel or cmirrord must refuse every one, and keep nothing of it.
 */
export const MIRROR_OPS = ['create', 'create-in-sync', 'remove', 'suspend', 'resume', 'reload', 'load-invalid'] as const;
export type MirrorOp = (typeof MIRROR_OPS)[number];

export function createsMirror(op: MirrorOp | undefined): boolean {
  return op === 'create' || op === 'create-in-sync';
}

export const CHECKS = [
  'clean-implies-equal',
  'dirty-before-write',
  'no-lost-writes',
  'no-stale-reads',
  'legs-converge',
  'nodes-agree',
  'no-hang',
  'kernel-clean',
  'single-writer',
  'marked-before-write',
  'one-recovery-at-a-time',
  'requests-answered',
  'invalid-tables-refused',
] as const;
export type CheckName = (typeof CHECKS)[number];

export { CLUSTER_FAULTS, FAULT_KINDS, NODE_FAULTS, SCHEDULABLE_FAULTS, type FaultKind, type SchedulableFault } from './fault-kinds.ts';
import type { FaultKind, SchedulableFault } from './fault-kinds.ts';

/** A fault step's fault with its parameters; what each kind means is in fault-kinds.ts. */
export type Fault =
  | { kind: Exclude<FaultKind, 'partition' | 'net-loss' | 'net-delay' | 'fail-leg' | 'restore-leg' | 'fail-log' | 'restore-log' | 'slow-leg' | 'slow-log'> }
  | { kind: 'partition'; groups: NodeId[][] }
  | { kind: 'net-loss'; percent: number }
  | { kind: 'net-delay'; delayMs: number }
  /** `mirror` absent: every mirror of the topology. */
  | { kind: 'fail-leg'; leg: number; mirror?: number }
  /** `leg` absent: every leg. */
  | { kind: 'restore-leg'; leg?: number; mirror?: number }
  | { kind: 'fail-log' | 'restore-log'; mirror?: number }
  | { kind: 'slow-leg'; leg: number; delayMs: number; mirror?: number }
  | { kind: 'slow-log'; delayMs: number; mirror?: number };

/** Which regions a workload's writers aim at. */
export type RegionTarget =
  /** Region r belongs to the writer node at position r mod (number of writer nodes): no sharing. */
  | { kind: 'own' }
  /** Regions 0..(writer nodes - 1), written by every writer: the contention case. */
  | { kind: 'shared' }
  /** Any region of the mirror, by any writer. */
  | { kind: 'all' }
  | { kind: 'list'; regions: number[] };

export interface Workload {
  /** Names the workload in history, logs and `wait: {until: workload NAME done}`. Default "w<step number>". */
  name: string;
  /** Writer processes per node in `on:`. */
  writers: number;
  /**
   * Writes each writer keeps in flight at once (clogwrite.py's --depth: a thread each, on blocks of its own),
   * so a node's marks and clears for many regions meet in one kmirrord pass.
   */
  depth: number;
  /** Bytes per write; a multiple of 512 that divides the region size, so no block spans two regions. */
  blockSize: number;
  regions: RegionTarget;
  /** Exactly one of durationMs and count (writes per writer) is set. */
  durationMs?: number;
  count?: number;
  /** Also run a reader per node that verifies every block it reads against the acknowledged writes. */
  readers: boolean;
  /**
   * Also run, per node, `dmsetup status` and `dmsetup table` in a loop for the workload's duration: status
   * requests to the log then overlap the kernel's marks, clears and flushes.
   */
  statusLoop: boolean;
  /** Index of the mirror written to. */
  mirror: number;
}

/**
 * Each wait condition's YAML text (NAME: a workload's name), and whether running out of time waiting
 * for it is the system under test hanging. A wait for the moment a fault needs (a write held in a
 * slowed leg or log) that never comes is the case failing to set up its scenario: nothing hung.
 */
export const WAIT_CONDITIONS = {
  'workloads-done': { text: 'workloads done', hangs: true },
  'workload-done': { text: 'workload NAME done', hangs: true },
  resyncing: { text: 'resyncing', hangs: true },
  degraded: { text: 'degraded', hangs: true },
  'members-agree': { text: 'members agree', hangs: true },
  'slow-leg-busy': { text: 'slow leg busy', hangs: false },
  'slow-leg-takes-write': { text: 'slow leg takes a write', hangs: false },
  'slow-log-busy': { text: 'slow log busy', hangs: false },
} as const satisfies Record<WaitCondition['kind'], { text: string; hangs: boolean }>;

export type WaitCondition =
  | { kind: 'workloads-done' }
  | { kind: 'workload-done'; name: string }
  /** Some node reports SYNCED < REGIONS: resync is in progress (to fault during it). */
  | { kind: 'resyncing' }
  /** Some node reports a leg or the log as D (failed) in `dmsetup status`. */
  | { kind: 'degraded' }
  /** Corosync membership on every node in `on:` lists exactly the nodes that are up. */
  | { kind: 'members-agree' }
  /**
   * Every node in `on:` has a data write held in a leg that slow-leg slowed (dm-delay's write count
   * is above zero): the moment a crash leaves that write on one leg and not the other.
   */
  | { kind: 'slow-leg-busy' }
  /**
   * A data write enters a leg that slow-leg slowed after the wait begins (its held count rises from zero):
   * the step after it acts early in that write's hold, not at its end, whatever the wait's own latency.
   */
  | { kind: 'slow-leg-takes-write' }
  /** The same as slow-leg-busy for the log device and slow-log. */
  | { kind: 'slow-log-busy' };

export type Wait =
  /** Every node in `on:` reports SYNCED == REGIONS for every mirror. */
  | { kind: 'sync' }
  | { kind: 'sleep'; ms: number }
  | { kind: 'until'; condition: WaitCondition };

interface StepBase {
  /** 1-based line of the step in the case file, for the runner's messages and history. */
  line: number;
  /**
   * Nodes the step acts on or runs on. Absent: every node that is up when the step starts
   * (never absent for NODE_FAULTS; always absent for partition and heal).
   */
  on?: NodeId[];
  /** Delay after the previous step finished before this one starts. */
  afterMs: number;
  /** Deadline for the step itself; for a workload, for starting it (it then runs in the background). */
  timeoutMs: number;
}

export type Step =
  | (StepBase & { kind: 'mirror'; op: MirrorOp })
  | (StepBase & { kind: 'wait'; wait: Wait })
  | (StepBase & { kind: 'workload'; workload: Workload })
  | (StepBase & { kind: 'fault'; fault: Fault })
  | (StepBase & { kind: 'check'; checks: CheckName[] })
  /**
   * Before the mirror exists, the harness writes stamped blocks straight into the shared disks so the legs
   * differ: leg 0 (the resync source) holds a newer write of the host (node 0) than every other leg. The
   * writes count as acknowledged at time zero, the older one first: after the resync every leg must hold
   * leg 0's, and no read may return another leg's.
   */
  | (StepBase & { kind: 'diverge-legs'; diverge: { regions: RegionTarget; mirror: number } })
  /** Where the faults drawn from `schedule:` go; schedule.ts replaces it with fault steps. */
  | (StepBase & { kind: 'schedule' });

export type StepKind = Step['kind'];
export const STEP_KINDS = ['mirror', 'wait', 'workload', 'fault', 'check', 'diverge-legs', 'schedule'] as const satisfies readonly StepKind[];

export const DEFAULT_TIMEOUT_MS: Record<StepKind, number> = {
  mirror: 60_000,
  wait: 300_000,
  workload: 60_000,
  fault: 60_000,
  check: 300_000,
  'diverge-legs': 60_000,
  schedule: 60_000,
};

/**
 * One entry of a random schedule's fault menu. Parameters left out are drawn from the seed:
 * the target node (one of `on`, default any node), the leg, the partition's minority,
 * the loss percentage (10..50) and the delay (50..500 ms).
 */
export interface MenuEntry {
  kind: SchedulableFault;
  on?: NodeId[];
  groups?: NodeId[][];
  percent?: number;
  delayMs?: number;
  leg?: number;
  mirror?: number;
}

export interface RandomSchedule {
  kind: 'random';
  /** The drawn faults, with their recoveries, all end within this time. */
  durationMs: number;
  /** Mean gap between a recovery and the next fault; each gap is drawn from [interval/2, 3*interval/2]. */
  intervalMs: number;
  /** Mean time a fault stays in effect before its recovery, drawn the same way. */
  holdMs: number;
  faults: MenuEntry[];
}

export interface ExpectedKernelMessage {
  /** A JavaScript regular expression matched against each dmesg line. */
  pattern: string;
  reason: string;
}

/** The bugs a case is expected to fail on (case/known-bugs.ts): their signatures say which findings they explain. */
export interface KnownFailure {
  bugs: number[];
  /**
   * The bugs show only when the case's timing hits them (the case is about something else): a pass is
   * reported as the known failure not hit this time, not as UNEXPECTEDLY PASSED. A case that proves a
   * bug or its fix hits it every time and never carries this.
   */
  intermittent?: boolean;
  /** The regions the bugs' region-bound findings are in here; absent: any region. */
  regions?: number[];
}

export interface Case {
  /** Path the case was loaded from, as given. */
  file: string;
  /** Lowercase letters, digits, '.', '_' and '-': it names the run directory. */
  name: string;
  description: string;
  tags: string[];
  topology: Topology;
  /** Unsigned 32-bit; `--seed` overrides it; absent: the runner draws one and prints it. */
  seed?: number;
  /** The case is expected to fail: such a failure is reported as todo, a pass loudly. */
  knownFailure?: KnownFailure;
  /** Checks the case lists that have nothing to judge here, each with why: not inconclusive, not failed. */
  notApplicable: Partial<Record<CheckName, string>>;
  schedule?: RandomSchedule;
  expectKernelMessages: ExpectedKernelMessage[];
  steps: Step[];
}

/**
 * The block size the checks locate mirror m's writes in: the one size its workloads write with, or a
 * sector when it has none or several. The sampler, diverge-legs and the record all use this one rule.
 */
export function mirrorBlockBytes(c: Pick<Case, 'steps'>, mirror: number): number {
  const sizes = [...new Set(c.steps.flatMap((s) => (s.kind === 'workload' && s.workload.mirror === mirror ? [s.workload.blockSize] : [])))];
  return sizes.length === 1 ? sizes[0]! : LIMITS.sector;
}

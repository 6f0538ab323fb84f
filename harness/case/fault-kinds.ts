/**
 * The fault vocabulary: one entry per kind. The case loader, the random schedule, the runner and the
 * checks all derive what they need (who a fault targets, what it takes, what undoes it, what it means
 * for the checks) from this table, so adding or renaming a kind is one edit.
 */

export type FaultParam = 'groups' | 'percent' | 'delay' | 'leg' | 'mirror';

export interface FaultSpec {
  /**
   * 'nodes': `on:` is required ("every node" is never what a crash means); 'cluster': acts on the whole
   * segment and takes no `on:`; 'some': `on:` is optional and defaults to every live node.
   */
  target: 'nodes' | 'cluster' | 'some';
  params: readonly FaultParam[];
  /** Parameters a fault step must give (a schedule menu may leave them to the draw). */
  required: readonly FaultParam[];
  /** The kind that undoes this one; only kinds with a recovery can be drawn by a random schedule. */
  recovery?: string;
  /** Takes its nodes out for good (until restarted): a partitioned node it hits can no longer serve the log. */
  fences: boolean;
  /** Splits the cluster network into groups that may each serve the log until healed. */
  splits: boolean;
  /** Takes its nodes out of the corosync ring until undone: the other nodes see them leave. */
  leavesRing: boolean;
  /**
   * May legitimately change membership or the log's state while it lasts (a node leaves, a leg fails).
   * Faults that only slow a device down do not, nor do the ones that undo a fault (heal, resume, restore):
   * nodes must agree through them, and a case with no other fault must end with every region clean on the
   * log device. Restarting a daemon or a node does change membership, so it counts.
   */
  disturbs: boolean;
  /** Acts on the log device, which clustered-core does not have. */
  needsLog: boolean;
  /** Makes a leg or the log device fail I/O: only then may a node report one failed ('D'). */
  failsDevice: boolean;
  /**
   * May hold a log request's answer past dm-log-userspace's retry timeout: it stops a node, its daemon or
   * corosync, or loses or delays the cluster's messages, or holds the log device the server writes before
   * it answers a flush. A case that runs one is not judged by requests-answered.
   */
  delaysAnswers: boolean;
  /**
   * With delaysAnswers: only its own nodes' answers. A daemon killed or started again takes its node out of
   * the log's group or brings it back; the others go on with the next server, and a request of theirs that
   * waits out the retry timeout is a failure of the log.
   */
  delaysOwnAnswersOnly: boolean;
}

const DEFAULTS = { params: [], required: [], fences: false, splits: false, leavesRing: false, disturbs: true, needsLog: false, failsDevice: false, delaysAnswers: false, delaysOwnAnswersOnly: false } as const;

/** An entry with the defaults filled in; `const` keeps each recovery's literal kind in the table's type. */
function spec<const S extends Partial<FaultSpec> & Pick<FaultSpec, 'target'>>(s: S): Omit<typeof DEFAULTS, keyof S> & S {
  return { ...DEFAULTS, ...s };
}

export const FAULT_SPECS = {
  /** QMP quit: the node is gone without a clean shutdown */
  crash: spec({ target: 'nodes', recovery: 'restart-node', fences: true, leavesRing: true, delaysAnswers: true }),
  /** QMP system_reset, which QEMU (-no-reboot) turns into a power cut: the node is gone until restart-node boots it */
  reset: spec({ target: 'nodes', recovery: 'restart-node', fences: true, leavesRing: true, delaysAnswers: true }),
  /** QMP stop: the guest stands still until resume */
  pause: spec({ target: 'nodes', recovery: 'resume', leavesRing: true, delaysAnswers: true }),
  /** QMP cont: undoes pause */
  resume: spec({ target: 'nodes', disturbs: false }),
  /** SIGKILL cmirrord (SIGTERM is refused while logs exist) */
  'kill-daemon': spec({ target: 'nodes', recovery: 'restart-daemon', fences: true, delaysAnswers: true, delaysOwnAnswersOnly: true }),
  /**
   * SIGTERM cmirrord, as an init script stops it: it exits only when it holds no log and refuses while
   * logs exist, so nothing the log serves may change (restart-daemon starts it again where it exited)
   */
  'stop-daemon': spec({ target: 'nodes', disturbs: false }),
  /** start corosync if it is down, then cmirrord; the kernel re-sends CTR + RESUME itself */
  'restart-daemon': spec({ target: 'nodes', delaysAnswers: true, delaysOwnAnswersOnly: true }),
  /** SIGKILL corosync: cmirrord loses CPG; undone by restart-daemon */
  'kill-corosync': spec({ target: 'nodes', recovery: 'restart-daemon', fences: true, leavesRing: true, delaysAnswers: true }),
  /** the hub drops frames between groups; every node is in exactly one group */
  partition: spec({ target: 'cluster', params: ['groups'], required: ['groups'], recovery: 'heal', splits: true, delaysAnswers: true }),
  /** cuts the on: nodes off from the others */
  isolate: spec({ target: 'nodes', recovery: 'heal', splits: true, delaysAnswers: true }),
  /** removes every network fault: partitions, loss and delay */
  heal: spec({ target: 'cluster', disturbs: false }),
  /** the hub drops this percentage of frames to and from the on: nodes */
  'net-loss': spec({ target: 'some', params: ['percent'], required: ['percent'], recovery: 'heal', delaysAnswers: true }),
  /** the hub delays frames to and from the on: nodes */
  'net-delay': spec({ target: 'some', params: ['delay'], required: ['delay'], recovery: 'heal', delaysAnswers: true }),
  /** swaps the dm-linear under a leg to dm-error on the on: nodes, as lvm2's tests do */
  'fail-leg': spec({ target: 'some', params: ['leg', 'mirror'], required: ['leg'], recovery: 'restore-leg', failsDevice: true }),
  /** swaps a leg (every leg when none is named) back to dm-linear; undoes fail-leg and slow-leg */
  'restore-leg': spec({ target: 'some', params: ['leg', 'mirror'], disturbs: false }),
  /** fail-leg for the log device */
  'fail-log': spec({ target: 'some', params: ['mirror'], recovery: 'restore-log', needsLog: true, failsDevice: true }),
  /** swaps the log device back to dm-linear; undoes fail-log and slow-log */
  'restore-log': spec({ target: 'some', params: ['mirror'], needsLog: true, disturbs: false }),
  /** dm-delay under a leg on the on: nodes: holds its reads and writes for `delay` */
  'slow-leg': spec({ target: 'some', params: ['leg', 'delay', 'mirror'], required: ['leg', 'delay'], recovery: 'restore-leg', disturbs: false }),
  /** dm-delay under the log device on the on: nodes: widens the window between a mark and its flush */
  'slow-log': spec({ target: 'some', params: ['delay', 'mirror'], required: ['delay'], recovery: 'restore-log', disturbs: false, needsLog: true, delaysAnswers: true }),
  /** boots crashed or reset nodes again (all at once): corosync, cmirrord, and the mirrors if they exist */
  'restart-node': spec({ target: 'nodes', delaysAnswers: true }),
} as const satisfies Record<string, FaultSpec>;

export type FaultKind = keyof typeof FAULT_SPECS;
/** The yes/no properties of a kind, which the checks ask of the faults a case ran. */
export type FaultFlag = { [K in keyof FaultSpec]-?: FaultSpec[K] extends boolean ? K : never }[keyof FaultSpec];
export const FAULT_KINDS = Object.keys(FAULT_SPECS) as FaultKind[];

const kindsWhere = (pred: (s: FaultSpec) => boolean): FaultKind[] => FAULT_KINDS.filter((k) => pred(FAULT_SPECS[k]));

/** Faults whose `on:` must name the nodes explicitly. */
export const NODE_FAULTS = kindsWhere((s) => s.target === 'nodes');
/** Faults that act on the whole segment and take no `on:`. */
export const CLUSTER_FAULTS = kindsWhere((s) => s.target === 'cluster');

type WithRecovery = { [K in FaultKind]: (typeof FAULT_SPECS)[K] extends { recovery: string } ? K : never }[FaultKind];
/** Faults a random schedule may start, each with the fault that undoes it before the next one starts. */
export type SchedulableFault = WithRecovery;
/** In table order, which the seeded draws depend on. */
export const SCHEDULABLE_FAULTS = kindsWhere((s) => s.recovery !== undefined) as SchedulableFault[];

export function recoveryOf(kind: SchedulableFault): FaultKind {
  return FAULT_SPECS[kind].recovery as FaultKind;
}

export function faultSpec(kind: FaultKind): FaultSpec {
  return FAULT_SPECS[kind];
}

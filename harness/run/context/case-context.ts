/**
 * What the runner, the faults, the workloads and the live evidence share while one case runs. It sits below
 * all of them (it imports none), so none of them import each other through it.
 */
import type { Case } from '../../case/schema.ts';
import type { Cluster } from '../../guest/cluster/cluster.ts';
import type { Node } from '../../guest/cluster/node.ts';
import type { History } from '../../record/history.ts';
import { mirrorLayouts, mirrorUuid, type MirrorLayout } from '../../guest/mirror/table.ts';
import type { Progress } from '../../base/progress.ts';
import type { Workload } from '../../case/schema.ts';
import { InfraError } from '../../base/errors.ts';
import type { BuildCoverage } from '../../stack/coverage.ts';

/**
 * How long a writer or reader may take from its start to its first operation: starting Python in a guest
 * under TCG can take this long. A duration workload's `timeout` allows it on top of the duration, and the
 * sampler waits at most this long for a first operation.
 */
export const WRITER_START_GRACE_MS = 30_000;

export interface WorkloadProc {
  node: number;
  label: string;
  log: string;
  /** Exit code; null when the channel closed without one (node crashed or was reset). */
  done: Promise<number | null>;
  stop: () => void;
  /** Where its stderr goes in the guest. */
  errLog: string;
}

/** A workload step's processes on every node. */
export interface WorkloadRun {
  name: string;
  workload: Workload;
  procs: WorkloadProc[];
}

/** A dm-linear layer under a leg or a log that a fault replaced on one node. */
export interface SwappedLayer {
  node: number;
  dm: string;
  layer: 'leg' | 'log';
  effect: 'error' | 'delay';
  /** The table in effect (or to load, when the layer does not exist yet). */
  table: string;
  /** The dm-linear table that puts it back. */
  healthy: string;
}

export interface CaseContext {
  case: Case;
  seed: number;
  /** Stamped into every block written and into the mirror UUIDs. */
  runId: number;
  cluster: Cluster;
  /** runs/<run-id>/<case>/ */
  dir: string;
  history: History;
  mirrors: MirrorLayout[];
  uuids: string[];
  /** Set by `mirror: create`, cleared by `mirror: remove`. */
  mirrorsLoaded: boolean;
  /** Nodes that have the mirrors' layers (dm-linear under legs and logs): a device fault swaps them there, and is armed elsewhere. */
  layered: Set<number>;
  /** Nodes whose QEMU is gone (crash) or that rebooted without rejoining (reset). */
  down: Set<number>;
  /** Nodes stopped with QMP `stop`. */
  paused: Set<number>;
  /** Layers a fault swapped away from dm-linear, by "node/dm": what healAll restores. */
  swapped: Map<string, SwappedLayer>;
  workloads: WorkloadRun[];
  /** Set once the workloads were told to stop and given time to exit. */
  workloadsStopped: boolean;
  /** Steps and calls that ran past their deadline: what no-hang reports. */
  hangs: string[];
  /** The tail of the queue of freezes and faults (run/evidence/freeze.ts inTurn). */
  turn: Promise<void>;
  /**
   * Every whole-cluster freeze the harness made, host ms from the stop to the cont. A guest's clock stands
   * still while it is stopped, so the guest time of a moment is the host's plus the offset last measured,
   * minus what the guest spent frozen since that measurement.
   */
  freezes: Array<{ from: number; to: number }>;
  /**
   * Set from the start of a wait for a write held in a slowed layer until the step after it is done: a
   * freeze in between would let the held write drain before that step acts on it (a crash that should
   * catch a write between the legs caught none).
   */
  freezesHeld: boolean;
  /** The coverage builds whose counters are collected at each point (--coverage); empty otherwise. */
  coverage: readonly BuildCoverage[];
  say: Progress;
}

/** Nodes that answer: up and not paused. */
export function liveNodes(ctx: CaseContext, among?: readonly number[]): Node[] {
  return ctx.cluster.nodes.filter((n) => !ctx.down.has(n.id) && !ctx.paused.has(n.id) && (!among || among.includes(n.id)));
}

/** The step's `on:` nodes, or every live node; naming a node that is down is an infrastructure error of the step. */
export function targetNodes(ctx: CaseContext, on: readonly number[] | undefined): Node[] {
  if (!on) return liveNodes(ctx);
  return on.map((id) => ctx.cluster.node(id));
}

/** The state of a case whose cluster is up and whose mirrors are not loaded yet. */
export function newCaseContext(base: Pick<CaseContext, 'case' | 'seed' | 'runId' | 'cluster' | 'dir' | 'history' | 'say' | 'coverage'>): CaseContext {
  const mirrors = mirrorLayouts(base.case.topology);
  return {
    ...base,
    mirrors,
    uuids: mirrors.map((_, i) => mirrorUuid(base.runId, i)),
    mirrorsLoaded: false,
    layered: new Set(),
    down: new Set(),
    paused: new Set(),
    swapped: new Map(),
    workloads: [],
    workloadsStopped: false,
    hangs: [],
    turn: Promise.resolve(),
    freezes: [],
    freezesHeld: false,
  };
}

/** The host file of a shared disk, by its serial. */
export function diskFile(ctx: Pick<CaseContext, 'cluster'>, serial: string): string {
  const d = ctx.cluster.disks.find((x) => x.serial === serial);
  if (!d) throw new InfraError(`no shared disk "${serial}" in the cluster`);
  return d.file;
}

/** The dm-delay layers of kind `layer` a slow-leg or slow-log fault put in place on node n. */
export function slowedLayers(ctx: Pick<CaseContext, 'swapped' | 'layered'>, node: number, layer: SwappedLayer['layer']): string[] {
  // A fault armed for a mirror not created there yet has no layer to look at.
  if (!ctx.layered.has(node)) return [];
  return [...ctx.swapped.values()].filter((s) => s.node === node && s.layer === layer && s.effect === 'delay').map((s) => s.dm);
}

/** What the runner, the faults and the checks share while one case runs. */
import type { Case } from '../case/schema.ts';
import type { Observations } from '../checks/observe.ts';
import type { Cluster } from '../cluster/cluster.ts';
import type { Node } from '../cluster/node.ts';
import type { History } from '../history.ts';
import type { MirrorLayout } from '../mirror/table.ts';
import type { Progress } from '../progress.ts';
import type { WorkloadRun } from '../workload/run.ts';

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
  /** Nodes whose QEMU is gone (crash) or that rebooted without rejoining (reset). */
  down: Set<number>;
  /** Nodes stopped with QMP `stop`. */
  paused: Set<number>;
  /** Layers a fault swapped away from dm-linear, by "node/dm": what healAll restores. */
  swapped: Map<string, { node: number; dm: string; healthy: string; table: string }>;
  workloads: WorkloadRun[];
  /** Steps and calls that ran past their deadline: what no-hang reports. */
  hangs: string[];
  /** Taken while the case runs, judged by the checks at the end. */
  observed: Observations;
  /** The tail of the queue of freezes and faults (checks/common.ts inTurn). */
  turn: Promise<void>;
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

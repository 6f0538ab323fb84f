/**
 * Which blocks, and which sequence numbers, each writer of a case owns (pure).
 *
 * Every writer of every workload of a case writes blocks no other writer writes: two nodes writing one
 * block at once leave it on the legs in whatever order each leg saw them, which dm-raid1 does not promise
 * to make equal (a cluster file system takes a lock first), so the checks would cry wolf. And every writer
 * numbers its writes apart from every other writer on its node, or the oracle could not tell two writers'
 * writes apart. Workloads that never overlap in time lose nothing but blocks they did not need.
 */
import type { Step } from '../../case/schema.ts';

export interface WriterPlan {
  /** This workload's first slot: writer k of the node at position p owns slot base + p * writers + k. */
  slotBase: number;
  /** Slots of the workload's mirror: the blocks whose index mod this is the writer's slot are its own. */
  slotCount: number;
  /** This workload's first writer number on any node: writer k numbers its writes from (base + k) * stride + 1. */
  seqBase: number;
}

type WorkloadStep = Extract<Step, { kind: 'workload' }>;

/** Nodes a workload step may run on: those named, or, when none are, every node of the topology. */
const width = (s: WorkloadStep, nodes: number) => (s.on?.length ?? nodes) * s.workload.writers;

export function writerPlan(steps: readonly Step[], step: WorkloadStep, nodes: number): WriterPlan {
  const workloads = steps.filter((s): s is WorkloadStep => s.kind === 'workload');
  const at = workloads.indexOf(step);
  if (at < 0) throw new Error(`workload step at line ${step.line} is not one of the case's steps`);
  const sameMirror = workloads.filter((s) => s.workload.mirror === step.workload.mirror);
  const slots = (ss: readonly WorkloadStep[]) => ss.reduce((n, s) => n + width(s, nodes), 0);
  return {
    slotBase: slots(sameMirror.slice(0, sameMirror.indexOf(step))),
    slotCount: slots(sameMirror),
    seqBase: workloads.slice(0, at).reduce((n, s) => n + s.workload.writers, 0),
  };
}

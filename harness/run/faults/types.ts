import type { Fault, Step } from '../../case/schema.ts';
import type { Node } from '../../guest/cluster/node.ts';
import type { CaseContext } from '../context/case-context.ts';

export type FaultStep = Extract<Step, { kind: 'fault' }>;

export interface FaultImpl<K extends Fault['kind'] = Fault['kind']> {
  /** Carries the fault out on `nodes` (the step's `on:`, or every live node); throws InfraError when it cannot. */
  start(ctx: CaseContext, fault: Fault & { kind: K }, nodes: Node[], step: FaultStep): Promise<void>;
}

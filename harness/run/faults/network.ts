/** partition, isolate, heal, net-loss, net-delay: the hub between the guests' cluster NICs. */
import { InfraError } from '../../base/errors.ts';
import type { CaseContext } from '../context/case-context.ts';
import type { FaultImpl } from './types.ts';

function hub(ctx: CaseContext) {
  if (!ctx.cluster.hub) throw new InfraError('the cluster has no hub');
  return ctx.cluster.hub;
}

export const partition: FaultImpl<'partition'> = {
  async start(ctx, f) {
    // Heal first, as Jepsen does, so the groups asked for are the only cut in effect.
    hub(ctx).heal();
    hub(ctx).partition(f.groups);
  },
};

export const isolate: FaultImpl<'isolate'> = {
  async start(ctx, _f, nodes) {
    const h = hub(ctx);
    h.heal();
    const ids = nodes.map((n) => n.id);
    h.partition([ids, h.nodes.filter((n) => !ids.includes(n))]);
  },
};

export const heal: FaultImpl<'heal'> = {
  async start(ctx) {
    hub(ctx).heal();
  },
};

/** Both directions of every link between a target node and any other node. */
function eachLink(ctx: CaseContext, ids: number[], fn: (a: number, b: number) => void): void {
  const all = hub(ctx).nodes;
  for (const a of ids) for (const b of all) if (a !== b) fn(a, b);
}

export const netLoss: FaultImpl<'net-loss'> = {
  async start(ctx, f, nodes) {
    eachLink(ctx, nodes.map((n) => n.id), (a, b) => hub(ctx).setLinkBoth(a, b, { lossPercent: f.percent }));
  },
};

export const netDelay: FaultImpl<'net-delay'> = {
  async start(ctx, f, nodes) {
    eachLink(ctx, nodes.map((n) => n.id), (a, b) => hub(ctx).setLinkBoth(a, b, { delayMs: f.delayMs }));
  },
};

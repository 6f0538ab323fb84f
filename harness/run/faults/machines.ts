/** crash, reset, pause, resume, restart-node: faults of the whole guest, through QMP. */
import type { Fault } from '../../case/schema.ts';
import type { Node } from '../../guest/cluster/node.ts';
import { InfraError } from '../../base/errors.ts';
import { createMirror } from '../../guest/mirror/ops.ts';
import { events } from '../../record/events.ts';
import { liveNodes, type CaseContext } from '../context/case-context.ts';
import type { FaultImpl } from './types.ts';

/** A fault carried out on every `on:` node at once, its bookkeeping in the context done by act. */
function onEachNode<K extends Fault['kind']>(act: (ctx: CaseContext, n: Node, timeoutMs: number) => Promise<void>): FaultImpl<K> {
  return {
    async start(ctx, _f, nodes, step) {
      await Promise.all(nodes.map((n) => act(ctx, n, step.timeoutMs)));
    },
  };
}

/**
 * Reads every live node's clock as one batch. A node that stood still (paused) or came back (restarted)
 * may now be off from the others by more than before; the checks bound cross-node orderings by it.
 */
async function readAllClocks(ctx: CaseContext, why: string): Promise<void> {
  events.clocks(ctx.history, { readings: await ctx.cluster.readClocks(liveNodes(ctx), `${why} ${ctx.cluster.clocks.length}`) });
}

export const crash = onEachNode<'crash'>(async (ctx, n, timeoutMs) => {
  // Marked first: from here on nothing may wait on this node, whatever quit says.
  ctx.down.add(n.id);
  ctx.layered.delete(n.id);
  // Until QEMU has gone, the guest may still write to the shared disks, and a restart-node
  // right after would race the old process for its ports and files.
  if (n.machine) await n.machine.shutdown(timeoutMs);
});

export const reset = onEachNode<'reset'>(async (ctx, n, timeoutMs) => {
  ctx.down.add(n.id);
  ctx.layered.delete(n.id);
  await n.qmp.systemReset(timeoutMs);
  // QEMU runs with -no-reboot, so a reset ends its process: wait for that, or restart-node would race it.
  if (n.machine && !(await n.machine.waitExit(timeoutMs))) throw new InfraError(`${n.name}: QEMU still running ${timeoutMs / 1000}s after system_reset`);
});

export const pause = onEachNode<'pause'>(async (ctx, n, timeoutMs) => {
  ctx.paused.add(n.id);
  await n.qmp.stop(timeoutMs);
});

export const resume: FaultImpl<'resume'> = {
  async start(ctx, _f, nodes, step) {
    await Promise.all(
      nodes.map(async (n) => {
        await n.qmp.cont(step.timeoutMs);
        ctx.paused.delete(n.id);
      }),
    );
    await readAllClocks(ctx, 'resume');
  },
};

/**
 * Brings crashed (QEMU gone) or reset nodes back, all `on:` nodes together so that a whole cluster brought
 * back can form a quorum: corosync and cmirrord, then the mirrors if the case has them loaded, lowest id
 * first (with no survivor, the first to load a log reads it from disk).
 */
export const restartNode: FaultImpl<'restart-node'> = {
  async start(ctx, _f, nodes, step) {
    const live = liveNodes(ctx).filter((n) => !nodes.includes(n)).map((n) => n.id);
    // A rebooted node loads healthy layers: whatever a fault swapped in went down with it.
    for (const [key, s] of ctx.swapped) if (nodes.some((n) => n.id === s.node)) ctx.swapped.delete(key);
    await ctx.cluster.rejoin(nodes, live, step.timeoutMs);
    if (ctx.mirrorsLoaded) {
      for (const n of [...nodes].sort((a, b) => a.id - b.id)) {
        ctx.layered.add(n.id);
        for (const [i, m] of ctx.mirrors.entries()) await createMirror(n, ctx.case.topology, m, ctx.uuids[i]!, step.timeoutMs);
      }
    }
    for (const n of nodes) {
      ctx.down.delete(n.id);
      events.nodeBack(ctx.history, { node: n.id, what: 'node rejoined' });
    }
    await readAllClocks(ctx, 'restart');
  },
};

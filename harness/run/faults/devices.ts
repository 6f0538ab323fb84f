/**
 * fail-leg, restore-leg, slow-leg, fail-log, slow-log, restore-log: the dm-linear layer under a leg or
 * the log is swapped for dm-error or dm-delay on the `on:` nodes only, the way lvm2's tests fail a PV.
 */
import type { Topology } from '../../case/schema.ts';
import type { Node } from '../../guest/cluster/node.ts';
import { DeadlineError, InfraError } from '../../base/errors.ts';
import { sharedDiskPath } from '../../base/guest-contract.ts';
import { heldWriteWaiter, swapTable } from '../../guest/mirror/ops.ts';
import { delayTable, errorTable, layerSectors, layerTable, type MirrorLayout } from '../../guest/mirror/table.ts';
import { slowedLayers, type CaseContext, type SwappedLayer } from '../context/case-context.ts';
import type { FaultImpl } from './types.ts';

function mirrorsOf(ctx: CaseContext, mirror: number | undefined): MirrorLayout[] {
  if (mirror === undefined) return ctx.mirrors;
  const m = ctx.mirrors[mirror];
  if (!m) throw new InfraError(`no mirror ${mirror} (the topology has ${ctx.mirrors.length})`);
  return [m];
}

function legOf(m: MirrorLayout, leg: number) {
  const l = m.legs[leg];
  if (!l) throw new InfraError(`${m.name} has no leg ${leg} (it has ${m.legs.length})`);
  return l;
}

function logOf(m: MirrorLayout) {
  if (!m.log) throw new InfraError(`${m.name} has a clustered-core log: there is no log device to fail`);
  return m.log;
}

/**
 * The healthy table is remembered so healAll can put it back whatever the case does. On a node that has
 * no layers yet (its mirror not created), the fault is armed: `mirror: create` loads the layer with it.
 */
async function swap(ctx: CaseContext, nodes: Node[], layer: SwappedLayer['layer'], dm: string, effect: SwappedLayer['effect'] | 'healthy', table: string, healthy: string, timeoutMs: number): Promise<void> {
  await Promise.all(
    nodes.map(async (n) => {
      if (ctx.layered.has(n.id)) await swapTable(n, dm, table, timeoutMs);
      const key = `${n.id}/${dm}`;
      if (effect === 'healthy') ctx.swapped.delete(key);
      else ctx.swapped.set(key, { node: n.id, dm, layer, effect, table, healthy });
    }),
  );
}

/** The table each layer of node n is created with: the healthy one, unless a fault was armed for it. */
export function armedTables(ctx: Pick<CaseContext, 'swapped'>, node: number): Map<string, string> {
  return new Map([...ctx.swapped.values()].filter((s) => s.node === node).map((s) => [s.dm, s.table]));
}

/** dm-delay over the same disk the healthy dm-linear maps. */
function slowed(t: Topology, what: 'leg' | 'log', serial: string, delayMs: number): string {
  return delayTable(layerSectors(t, what), sharedDiskPath(serial), delayMs);
}

export const failLeg: FaultImpl<'fail-leg'> = {
  async start(ctx, f, nodes, step) {
    const t = ctx.case.topology;
    for (const m of mirrorsOf(ctx, f.mirror)) {
      const l = legOf(m, f.leg);
      await swap(ctx, nodes, 'leg', l.dm, 'error', errorTable(layerSectors(t, 'leg')), layerTable(t, 'leg', l.serial), step.timeoutMs);
    }
  },
};

export const slowLeg: FaultImpl<'slow-leg'> = {
  async start(ctx, f, nodes, step) {
    const t = ctx.case.topology;
    for (const m of mirrorsOf(ctx, f.mirror)) {
      const l = legOf(m, f.leg);
      await swap(ctx, nodes, 'leg', l.dm, 'delay', slowed(t, 'leg', l.serial, f.delayMs), layerTable(t, 'leg', l.serial), step.timeoutMs);
    }
  },
};

export const restoreLeg: FaultImpl<'restore-leg'> = {
  async start(ctx, f, nodes, step) {
    const t = ctx.case.topology;
    for (const m of mirrorsOf(ctx, f.mirror)) {
      const legs = f.leg === undefined ? m.legs : [legOf(m, f.leg)];
      for (const l of legs) {
        const healthy = layerTable(t, 'leg', l.serial);
        await swap(ctx, nodes, 'leg', l.dm, 'healthy', healthy, healthy, step.timeoutMs);
      }
    }
  },
};

export const failLog: FaultImpl<'fail-log'> = {
  async start(ctx, f, nodes, step) {
    const t = ctx.case.topology;
    for (const m of mirrorsOf(ctx, f.mirror)) {
      const l = logOf(m);
      await swap(ctx, nodes, 'log', l.dm, 'error', errorTable(layerSectors(t, 'log')), layerTable(t, 'log', l.serial), step.timeoutMs);
    }
  },
};

export const slowLog: FaultImpl<'slow-log'> = {
  async start(ctx, f, nodes, step) {
    const t = ctx.case.topology;
    for (const m of mirrorsOf(ctx, f.mirror)) {
      const l = logOf(m);
      await swap(ctx, nodes, 'log', l.dm, 'delay', slowed(t, 'log', l.serial, f.delayMs), layerTable(t, 'log', l.serial), step.timeoutMs);
    }
  },
};

export const restoreLog: FaultImpl<'restore-log'> = {
  async start(ctx, f, nodes, step) {
    const t = ctx.case.topology;
    for (const m of mirrorsOf(ctx, f.mirror)) {
      const l = logOf(m);
      const healthy = layerTable(t, 'log', l.serial);
      await swap(ctx, nodes, 'log', l.dm, 'healthy', healthy, healthy, step.timeoutMs);
    }
  },
};

/** Waits until every node in `nodes` holds a write in a leg (or the log) that a slow-leg (slow-log) slowed on it. */
export async function waitSlowLayerBusy(ctx: CaseContext, nodes: Node[], layer: SwappedLayer['layer'], timeoutMs: number, opts: { newWrite?: boolean } = {}): Promise<void> {
  await Promise.all(
    nodes.map(async (n) => {
      const slowedHere = slowedLayers(ctx, n.id, layer);
      if (slowedHere.length === 0) throw new InfraError(`wait "slow ${layer} busy": no ${layer} is slowed on ${n.name} (a slow-${layer} fault on it must come first)`);
      const r = await n.exec(heldWriteWaiter(slowedHere, timeoutMs / 1000, { newWrite: opts.newWrite }), { timeoutMs: timeoutMs + 20_000 });
      if (r.code === 0) return;
      const seen = r.code === 1 ? `dm-delay status: ${r.stdout.trim().replace(/\n/g, ' | ')}` : `the waiter exited ${r.code}: ${r.stderr.trim()}`;
      throw new DeadlineError(`a ${opts.newWrite ? 'new write' : 'write'} held in ${slowedHere.join(', ')} on ${n.name}`, timeoutMs / 1000, seen);
    }),
  );
}

/**
 * fail-leg, restore-leg, slow-leg, fail-log, restore-log: the dm-linear layer under a leg or the
 * log is swapped for dm-error or dm-delay on the `on:` nodes only, the way lvm2's tests fail a PV.
 */
import type { Node } from '../cluster/node.ts';
import { poll } from '../cluster/poll.ts';
import { InfraError } from '../errors.ts';
import { DMSETUP, DMSETUP_TIMEOUT_MS, swapLayer } from '../mirror/ops.ts';
import { delayTable, errorTable, layerSectors, layerTable, type MirrorLayout } from '../mirror/table.ts';
import type { CaseContext } from '../runner/context.ts';
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

/** The healthy table is remembered so healAll can put it back whatever the case does. */
async function swap(ctx: CaseContext, nodes: Node[], dm: string, table: string, healthy: string, timeoutMs: number): Promise<void> {
  await Promise.all(
    nodes.map(async (n) => {
      await swapLayer(n, dm, table, timeoutMs);
      const key = `${n.id}/${dm}`;
      if (table === healthy) ctx.swapped.delete(key);
      else ctx.swapped.set(key, { node: n.id, dm, healthy, table });
    }),
  );
}

export const failLeg: FaultImpl<'fail-leg'> = {
  async start(ctx, f, nodes, step) {
    const t = ctx.case.topology;
    for (const m of mirrorsOf(ctx, f.mirror)) {
      const l = legOf(m, f.leg);
      await swap(ctx, nodes, l.dm, errorTable(layerSectors(t, 'leg')), layerTable(t, 'leg', l.serial), step.timeoutMs);
    }
  },
};

export const slowLeg: FaultImpl<'slow-leg'> = {
  async start(ctx, f, nodes, step) {
    const t = ctx.case.topology;
    for (const m of mirrorsOf(ctx, f.mirror)) {
      const l = legOf(m, f.leg);
      const healthy = layerTable(t, 'leg', l.serial);
      const disk = healthy.split(' ')[3]!;
      await swap(ctx, nodes, l.dm, delayTable(layerSectors(t, 'leg'), disk, f.delayMs), healthy, step.timeoutMs);
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
        await swap(ctx, nodes, l.dm, healthy, healthy, step.timeoutMs);
      }
    }
  },
};

export const failLog: FaultImpl<'fail-log'> = {
  async start(ctx, f, nodes, step) {
    const t = ctx.case.topology;
    for (const m of mirrorsOf(ctx, f.mirror)) {
      const l = logOf(m);
      await swap(ctx, nodes, l.dm, errorTable(layerSectors(t, 'log')), layerTable(t, 'log', l.serial), step.timeoutMs);
    }
  },
};

export const restoreLog: FaultImpl<'restore-log'> = {
  async start(ctx, f, nodes, step) {
    const t = ctx.case.topology;
    for (const m of mirrorsOf(ctx, f.mirror)) {
      const l = logOf(m);
      const healthy = layerTable(t, 'log', l.serial);
      await swap(ctx, nodes, l.dm, healthy, healthy, step.timeoutMs);
    }
  },
};

/**
 * Data writes dm-delay holds, from its `dmsetup status` line "START LEN delay READS WRITES FLUSHES"
 * (Linux 6.1 dm-delay.c delay_status: each class's ops count goes up when a bio is queued and down
 * when it is sent on). Flushes do not count: the writers' O_DSYNC flush follows a write whose data
 * has already reached every leg, so a crash while a flush is held leaves the legs alike.
 */
export function delayedWrites(line: string): number {
  const m = /^\d+ \d+ delay (\d+) (\d+)(?: \d+)?\s*$/.exec(line.trim());
  if (!m) throw new InfraError(`not a dm-delay status line: ${JSON.stringify(line)}`);
  return Number(m[2]);
}

const SLOW_LEG_POLL_MS = 100;

/** Waits until every node in `nodes` holds a write in a leg slow-leg slowed on it. */
export async function waitSlowLegBusy(ctx: CaseContext, nodes: Node[], timeoutMs: number): Promise<void> {
  await Promise.all(
    nodes.map(async (n) => {
      const slowed = [...ctx.swapped.values()].filter((s) => s.node === n.id && s.table.split(' ')[2] === 'delay').map((s) => s.dm);
      if (slowed.length === 0) throw new InfraError(`wait "slow leg busy": no leg is slowed on ${n.name} (a slow-leg fault on it must come first)`);
      const cmd = slowed.map((dm) => `${DMSETUP} status ${dm}`).join(' && ');
      await poll(`a write held in ${slowed.join(', ')} on ${n.name}`, timeoutMs, SLOW_LEG_POLL_MS, async () => {
        const writes = (await n.execOrThrow(cmd, { timeoutMs: DMSETUP_TIMEOUT_MS })).stdout.trim().split('\n').map(delayedWrites);
        return writes.some((w) => w > 0) ? { done: true, value: undefined } : { done: false, seen: `writes held: ${writes.join(', ')}` };
      });
    }),
  );
}

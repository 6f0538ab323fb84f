/** Every fault kind by name, and healAll: what undoes whatever faults a case left in effect. */
import type { Fault, FaultKind } from '../../case/schema.ts';
import { errorMessage } from '../../base/errors.ts';
import { liveNodes, targetNodes, type CaseContext } from '../context/case-context.ts';
import { swapTable } from '../../guest/mirror/ops.ts';
import { events } from '../../record/events.ts';
import { killCorosync, killDaemon, restartDaemon, stopDaemon } from './daemons.ts';
import { failLeg, failLog, restoreLeg, restoreLog, slowLeg, slowLog } from './devices.ts';
import { crash, pause, reset, restartNode, resume } from './machines.ts';
import { heal, isolate, netDelay, netLoss, partition } from './network.ts';
import type { FaultImpl, FaultStep } from './types.ts';

export const FAULTS: { [K in FaultKind]: FaultImpl<K> } = {
  crash,
  reset,
  pause,
  resume,
  'kill-daemon': killDaemon,
  'stop-daemon': stopDaemon,
  'restart-daemon': restartDaemon,
  'kill-corosync': killCorosync,
  partition,
  isolate,
  heal,
  'net-loss': netLoss,
  'net-delay': netDelay,
  'fail-leg': failLeg,
  'restore-leg': restoreLeg,
  'fail-log': failLog,
  'restore-log': restoreLog,
  'slow-leg': slowLeg,
  'slow-log': slowLog,
  'restart-node': restartNode,
};

export async function startFault(ctx: CaseContext, step: FaultStep): Promise<void> {
  const impl = FAULTS[step.fault.kind] as FaultImpl<Fault['kind']>;
  await impl.start(ctx, step.fault, targetNodes(ctx, step.on), step);
}

/**
 * Undoes every fault still in effect: network faults, paused guests, swapped device layers.
 * Crashed nodes and killed daemons stay as they are: bringing them back is a step of its own.
 * Keeps going past a failure and returns what could not be undone.
 */
export async function healAll(ctx: CaseContext, timeoutMs = 30_000): Promise<string[]> {
  const failures: string[] = [];
  ctx.cluster.hub?.heal();
  for (const id of [...ctx.paused]) {
    try {
      await ctx.cluster.node(id).qmp.cont(timeoutMs);
      ctx.paused.delete(id);
    } catch (err) {
      failures.push(`node${id}: cont: ${errorMessage(err)}`);
    }
  }
  const live = new Set(liveNodes(ctx).map((n) => n.id));
  for (const [key, s] of [...ctx.swapped]) {
    if (!live.has(s.node)) continue;
    // Armed for a mirror that was never created there: nothing to put back.
    if (!ctx.layered.has(s.node)) {
      ctx.swapped.delete(key);
      continue;
    }
    try {
      await swapTable(ctx.cluster.node(s.node), s.dm, s.healthy, timeoutMs);
      ctx.swapped.delete(key);
    } catch (err) {
      failures.push(`node${s.node}: restore ${s.dm}: ${errorMessage(err)}`);
    }
  }
  if (failures.length === 0) events.fault(ctx.history, { fault: 'heal-all', nodes: [], event: 'done' });
  else ctx.history.append('error', { what: 'heal-all', failures });
  return failures;
}

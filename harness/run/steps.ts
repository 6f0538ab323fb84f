/** How the runner carries out each kind of step (except check steps, which run-case.ts judges). */
import { faultSpec } from '../case/fault-kinds.ts';
import { WAIT_CONDITIONS, createsMirror, type Step } from '../case/schema.ts';
import { inTurn } from './evidence/freeze.ts';
import { InfraError } from '../base/errors.ts';
import { armedTables, waitSlowLayerBusy } from './faults/devices.ts';
import { startFault } from './faults/index.ts';
import { createLayers, loadInvalidTables, loadMirror, reloadMirror, removeMirror, resumeMirror, suspendMirror, waitMirrors } from '../guest/mirror/ops.ts';
import { invalidMirrorTables } from '../guest/mirror/table.ts';
import { inSync, isDegraded } from '../oracle/dm-status.ts';
import { events } from '../record/events.ts';
import { divergeLegs } from './workload/diverge.ts';
import { checkStarted, startWorkload, waitWorkloads } from './workload/run.ts';
import { liveNodes, targetNodes, type CaseContext } from './context/case-context.ts';

type StepOf<K extends Step['kind']> = Extract<Step, { kind: K }>;

export function describeStep(s: Step): string {
  switch (s.kind) {
    case 'mirror':
      return `mirror ${s.op}`;
    case 'wait':
      return s.wait.kind === 'sync' ? 'wait sync' : s.wait.kind === 'sleep' ? `wait ${s.wait.ms}ms` : `wait until ${s.wait.condition.kind}`;
    case 'workload':
      return `workload ${s.workload.name}`;
    case 'fault':
      return `fault ${s.fault.kind}`;
    case 'check':
      return `check ${s.checks.join(',')}`;
    case 'diverge-legs':
      return 'diverge legs';
    case 'schedule':
      return 'schedule';
  }
}

/**
 * Whether a step running out of time is the system under test hanging. A fault that could not be
 * carried out is the infrastructure's failure; so is a wait for the moment a fault needs (a write
 * held in a slowed leg) that never came: the case could not set up its scenario, nothing hung.
 */
export function canHang(s: Step): boolean {
  if (s.kind === 'fault') return false;
  return !(s.kind === 'wait' && s.wait.kind === 'until' && !WAIT_CONDITIONS[s.wait.condition.kind].hangs);
}

async function mirrorStep(ctx: CaseContext, s: StepOf<'mirror'>, step: number, cancelled: () => string | undefined): Promise<void> {
  const nodes = targetNodes(ctx, s.on);
  const t = ctx.case.topology;
  if (createsMirror(s.op)) {
    // The layers are each node's own dm-linear (or armed fault) tables, which no other node sees: every
    // node makes them at once (a guest command each, 0.5-1 s under TCG), and only the mirrors take turns.
    for (const n of nodes) ctx.layered.add(n.id);
    await Promise.all(nodes.map((n) => Promise.all(ctx.mirrors.map((m) => createLayers(n, t, m, armedTables(ctx, n.id))))));
  }
  for (const [i, m] of ctx.mirrors.entries()) {
    // One node after the other, lowest id first: the first to load the log is the one that reads it from disk.
    for (const n of nodes) {
      // A step past its deadline goes no further: the case has moved on to heal and judge.
      const stop = cancelled();
      if (stop) throw new InfraError(stop);
      const uuid = ctx.uuids[i]!;
      if (createsMirror(s.op)) await loadMirror(n, m, uuid, s.timeoutMs, s.op === 'create-in-sync');
      else if (s.op === 'remove') await removeMirror(n, m, s.timeoutMs);
      else if (s.op === 'suspend') await suspendMirror(n, m, s.timeoutMs);
      else if (s.op === 'resume') await resumeMirror(n, m, s.timeoutMs);
      else if (s.op === 'load-invalid') {
        const tables = invalidMirrorTables(m, uuid);
        const loads = await loadInvalidTables(n, `${m.name}-invalid`, tables, s.timeoutMs);
        for (const [k, t] of tables.entries()) {
          events.invalidTable(ctx.history, { node: n.id, mirror: i, uuid: t.uuid, table: t.table, refusedBy: t.refusedBy, ...loads[k]!, step });
        }
      } else await reloadMirror(n, m, uuid, s.timeoutMs);
    }
  }
  if (cancelled()) return;
  if (createsMirror(s.op)) ctx.mirrorsLoaded = true;
  if (s.op === 'remove') {
    for (const n of nodes) ctx.layered.delete(n.id);
    // Removed on some nodes only, the mirror is still loaded on the others: polls and samples go on.
    ctx.mirrorsLoaded = ctx.layered.size > 0;
  }
}

async function waitStep(ctx: CaseContext, s: StepOf<'wait'>, cancelled: () => string | undefined): Promise<void> {
  const w = s.wait;
  if (w.kind === 'sleep') return new Promise((r) => setTimeout(r, w.ms));
  const nodes = targetNodes(ctx, s.on).filter((n) => !ctx.down.has(n.id));
  if (w.kind === 'sync') {
    await waitMirrors(nodes, ctx.mirrors, `${nodes.map((n) => n.name).join(', ')} to report every mirror in sync`, inSync, s.timeoutMs, cancelled);
    return;
  }
  const c = w.condition;
  switch (c.kind) {
    case 'workloads-done':
      await waitWorkloads(ctx.workloads, s.timeoutMs);
      return checkStarted(ctx, ctx.workloads);
    case 'workload-done': {
      const run = ctx.workloads.filter((r) => r.name === c.name);
      if (run.length === 0) throw new InfraError(`no workload named "${c.name}" has started`);
      await waitWorkloads(run, s.timeoutMs);
      return checkStarted(ctx, run);
    }
    case 'resyncing':
      await waitMirrors(nodes.slice(0, 1), ctx.mirrors, 'a resync in progress', (st) => !inSync(st), s.timeoutMs, cancelled);
      return;
    case 'degraded':
      await waitMirrors(nodes.slice(0, 1), ctx.mirrors, 'a leg or the log reported failed', isDegraded, s.timeoutMs, cancelled);
      return;
    case 'members-agree': {
      const ids = liveNodes(ctx).map((n) => n.id);
      await Promise.all(nodes.map((n) => ctx.cluster.waitQuorate(n, ids, s.timeoutMs, cancelled)));
      return;
    }
    case 'slow-leg-busy':
      return waitSlowLayerBusy(ctx, nodes, 'leg', s.timeoutMs);
    case 'slow-leg-takes-write':
      return waitSlowLayerBusy(ctx, nodes, 'leg', s.timeoutMs, { newWrite: true });
    case 'slow-log-busy':
      return waitSlowLayerBusy(ctx, nodes, 'log', s.timeoutMs);
  }
}

/** The nodes a fault step acts on, for its history event: named ones, a partition's groups, or every live node. */
function faultNodes(ctx: CaseContext, s: StepOf<'fault'>): number[] {
  if (s.fault.kind === 'partition') return s.fault.groups.flat().sort((a, b) => a - b);
  if (faultSpec(s.fault.kind).target === 'cluster') return ctx.cluster.nodes.map((n) => n.id);
  return targetNodes(ctx, s.on).map((n) => n.id);
}

async function faultStep(ctx: CaseContext, s: StepOf<'fault'>, step: number): Promise<void> {
  const nodes = faultNodes(ctx, s);
  events.fault(ctx.history, { fault: s.fault.kind, nodes, event: 'start', step, line: s.line, params: s.fault });
  await inTurn(ctx, () => startFault(ctx, s));
  events.fault(ctx.history, { fault: s.fault.kind, nodes, event: 'done', step, line: s.line });
}

/** A wait for a write held in a slowed layer: the step after it acts on that write, so no freeze may come between. */
export function waitsForHeldWrite(s: Step): boolean {
  return s.kind === 'wait' && s.wait.kind === 'until' && ['slow-leg-busy', 'slow-leg-takes-write', 'slow-log-busy'].includes(s.wait.condition.kind);
}

/** Carries out step s (number `step`); `cancelled` says why it should stop once its deadline has passed. */
export async function runStep(ctx: CaseContext, s: Step, step: number, cancelled: () => string | undefined = () => undefined): Promise<void> {
  switch (s.kind) {
    case 'mirror':
      return mirrorStep(ctx, s, step, cancelled);
    case 'wait':
      return waitStep(ctx, s, cancelled);
    case 'workload':
      await startWorkload(ctx, s);
      return;
    case 'fault':
      return faultStep(ctx, s, step);
    case 'diverge-legs':
      return divergeLegs(ctx, s);
    case 'check':
      throw new InfraError(`line ${s.line}: check steps are judged by the runner, not run as steps`);
    case 'schedule':
      throw new InfraError(`line ${s.line}: schedule step left unexpanded`);
  }
}

/**
 * One case on a fresh cluster: boot, interpret the steps in order, heal, run every check,
 * collect artifacts on every exit path, and leave runs/<run-id>/<case>/ (removed on success unless keep).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKS, type Case, type CheckName, type KnownFailure, type Step } from '../case/schema.ts';
import { expandSchedule } from '../case/schedule.ts';
import { Cluster, type ClusterOptions } from '../cluster/cluster.ts';
import { inTurn } from '../checks/common.ts';
import { runCheck } from '../checks/index.ts';
import { emptyObservations, startObserving } from '../checks/observe.ts';
import { DeadlineError, InfraError } from '../errors.ts';
import { waitSlowLegBusy } from '../faults/devices.ts';
import { healAll, startFault } from '../faults/index.ts';
import { History } from '../history.ts';
import { createMirror, reloadMirror, removeMirror, resumeMirror, suspendMirror, waitMirrors } from '../mirror/ops.ts';
import { mirrorLayouts, mirrorUuid, sharedDisks } from '../mirror/table.ts';
import { inSync, isDegraded } from '../oracle/dm-status.ts';
import type { Verdict } from '../oracle/verdict.ts';
import type { Progress } from '../progress.ts';
import { Scope } from '../scope.ts';
import { checkStarted, startWorkload, waitWorkloads } from '../workload/run.ts';
import { liveNodes, targetNodes, type CaseContext } from './context.ts';

export type CaseStatus = 'passed' | 'failed' | 'infra';

export interface NamedVerdict extends Verdict {
  check: CheckName;
}

export interface CaseResult {
  name: string;
  file: string;
  iteration: number;
  seed: number;
  dir: string;
  status: CaseStatus;
  verdicts: NamedVerdict[];
  /** Why the case is infra or which checks failed, as one message. */
  message?: string;
  durationMs: number;
  knownFailure?: string;
}

export interface RunCaseOptions {
  runDir: string;
  seed: number;
  iteration: number;
  cluster: Omit<ClusterOptions, 'name' | 'nodes' | 'sharedDisks' | 'keepDisks' | 'say'>;
  keep: boolean;
  say: Progress;
}

type StepOf<K extends Step['kind']> = Extract<Step, { kind: K }>;

/**
 * Names corosync's cluster and the cluster's directory inside the case directory. Kept short:
 * QEMU's QMP socket lives in there, and a UNIX socket path must stay under 108 bytes.
 */
const CLUSTER_NAME = 'clog';

function describeStep(s: Step): string {
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
  return !(s.kind === 'wait' && s.wait.kind === 'until' && s.wait.condition.kind === 'slow-leg-busy');
}

async function withDeadline<T>(what: string, ms: number, body: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, ms / 1000, 'the step still running')), ms);
  });
  try {
    return await Promise.race([body(), expired]);
  } finally {
    clearTimeout(timer);
  }
}

async function mirrorStep(ctx: CaseContext, s: StepOf<'mirror'>): Promise<void> {
  const nodes = targetNodes(ctx, s.on);
  const t = ctx.case.topology;
  for (const [i, m] of ctx.mirrors.entries()) {
    // One node after the other, lowest id first: the first to load the log is the one that reads it from disk.
    for (const n of nodes) {
      const uuid = ctx.uuids[i]!;
      if (s.op === 'create') await createMirror(n, t, m, uuid, s.timeoutMs);
      else if (s.op === 'remove') await removeMirror(n, m, s.timeoutMs);
      else if (s.op === 'suspend') await suspendMirror(n, m, s.timeoutMs);
      else if (s.op === 'resume') await resumeMirror(n, m, s.timeoutMs);
      else await reloadMirror(n, m, uuid, s.timeoutMs);
    }
  }
  if (s.op === 'create') ctx.mirrorsLoaded = true;
  if (s.op === 'remove') ctx.mirrorsLoaded = false;
}

async function waitStep(ctx: CaseContext, s: StepOf<'wait'>): Promise<void> {
  const w = s.wait;
  if (w.kind === 'sleep') return new Promise((r) => setTimeout(r, w.ms));
  const nodes = targetNodes(ctx, s.on).filter((n) => !ctx.down.has(n.id));
  if (w.kind === 'sync') {
    await waitMirrors(nodes, ctx.mirrors, `${nodes.map((n) => n.name).join(', ')} to report every mirror in sync`, inSync, s.timeoutMs);
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
      await waitMirrors(nodes.slice(0, 1), ctx.mirrors, 'a resync in progress', (st) => !inSync(st), s.timeoutMs);
      return;
    case 'degraded':
      await waitMirrors(nodes.slice(0, 1), ctx.mirrors, 'a leg or the log reported failed', isDegraded, s.timeoutMs);
      return;
    case 'members-agree': {
      const ids = liveNodes(ctx).map((n) => n.id);
      await Promise.all(nodes.map((n) => ctx.cluster.waitQuorate(n, ids, s.timeoutMs)));
      return;
    }
    case 'slow-leg-busy':
      return waitSlowLegBusy(ctx, nodes, s.timeoutMs);
  }
}

async function checkStep(ctx: CaseContext, names: readonly CheckName[], verdicts: NamedVerdict[]): Promise<void> {
  for (const check of names) {
    const v = await runCheck(ctx, check);
    verdicts.push({ ...v, check });
    ctx.history.append('check', { check, valid: v.valid, detail: v.detail, findings: v.findings.length });
    ctx.say(`  ${check}: ${v.valid === true ? 'ok' : v.valid === false ? 'FAILED' : 'unknown'}: ${v.detail.split('\n')[0]}`);
  }
}

async function runStep(ctx: CaseContext, s: Step, verdicts: NamedVerdict[]): Promise<void> {
  switch (s.kind) {
    case 'mirror':
      return mirrorStep(ctx, s);
    case 'wait':
      return waitStep(ctx, s);
    case 'workload':
      await startWorkload(ctx, s);
      return;
    case 'fault':
      return inTurn(ctx, () => startFault(ctx, s));
    case 'check':
      return checkStep(ctx, s.checks, verdicts);
    case 'schedule':
      throw new InfraError(`line ${s.line}: schedule step left unexpanded`);
  }
}

/** Kernel task dumps of every live node into the case directory, for a step that hung. */
async function captureHang(ctx: CaseContext): Promise<void> {
  await Promise.allSettled(
    liveNodes(ctx).map(async (n) => {
      const r = await n.exec('echo w > /proc/sysrq-trigger; echo t > /proc/sysrq-trigger; dmesg', { timeoutMs: 30_000 });
      writeFileSync(join(ctx.dir, `${n.name}-sysrq.txt`), r.stdout);
    }),
  );
}

/** dmsetup status and a cmirrord state dump (SIGUSR1, into cmirrord.log, which the cluster pulls on stop). */
async function collectArtifacts(ctx: CaseContext): Promise<void> {
  await Promise.allSettled(
    liveNodes(ctx).map(async (n) => {
      const r = await n.exec('dmsetup status; pid=$(pidof cmirrord) && kill -USR1 $pid; sleep 1', { timeoutMs: 30_000 });
      writeFileSync(join(ctx.dir, `${n.name}-dmsetup-status.txt`), `${r.stdout}${r.stderr}`);
    }),
  );
  if (ctx.cluster.hub) writeFileSync(join(ctx.dir, 'hub-counters.json'), `${JSON.stringify(ctx.cluster.hub.counters(), null, 2)}\n`);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The state of a case whose cluster is up and whose mirrors are not loaded yet. */
export function newCaseContext(base: Pick<CaseContext, 'case' | 'seed' | 'runId' | 'cluster' | 'dir' | 'history' | 'say'>): CaseContext {
  const mirrors = mirrorLayouts(base.case.topology);
  return {
    ...base,
    mirrors,
    uuids: mirrors.map((_, i) => mirrorUuid(base.runId, i)),
    mirrorsLoaded: false,
    down: new Set(),
    paused: new Set(),
    swapped: new Map(),
    workloads: [],
    hangs: [],
    observed: emptyObservations(),
    turn: Promise.resolve(),
  };
}

/** Failed checks a known failure does not name: each makes the case a failure of its own. */
export function unexplainedFailures(kf: KnownFailure | undefined, verdicts: readonly NamedVerdict[]): CheckName[] {
  const expected = kf?.checks;
  if (!expected) return [];
  return verdicts.filter((v) => v.valid === false && !expected.includes(v.check)).map((v) => v.check);
}

export async function runCase(original: Case, opts: RunCaseOptions): Promise<CaseResult> {
  const started = Date.now();
  const c = expandSchedule(original, opts.seed);
  const dir = join(opts.runDir, opts.iteration > 1 ? `${c.name}.${opts.iteration}` : c.name);
  mkdirSync(dir, { recursive: true });
  const history = new History(join(dir, 'history.jsonl'));
  const verdicts: NamedVerdict[] = [];
  // Topology and workloads too: `clogtest check` re-judges a kept case from its directory alone.
  const workloads = c.steps.flatMap((s) => (s.kind === 'workload' ? [{ mirror: s.workload.mirror, blockSize: s.workload.blockSize }] : []));
  history.append('info', { what: 'case start', case: c.name, file: c.file, seed: opts.seed, steps: c.steps.length, topology: c.topology, workloads });
  const scope = new Scope((l) => opts.say(l));
  let infra: string | undefined;
  try {
    const runId = opts.seed;
    const cluster = await Cluster.start(
      {
        ...opts.cluster,
        name: CLUSTER_NAME,
        nodes: c.topology.nodes,
        sharedDisks: sharedDisks(c.topology),
        keepDisks: true,
        parentDir: dir,
        seed: opts.seed,
        say: opts.say,
      },
      scope,
    );
    history.append('info', { what: 'cluster up', dir: cluster.runDir, timings: cluster.timings });
    const live = newCaseContext({ case: c, seed: opts.seed, runId, cluster, dir, history, say: opts.say });
    scope.defer('collect case artifacts', () => collectArtifacts(live));
    scope.defer('stop workloads', async () => {
      const procs = live.workloads.flatMap((w) => w.procs);
      procs.forEach((p) => p.stop());
      // Their exits are still being written to history.jsonl; the case directory must outlive them.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(procs.map((p) => p.done)), new Promise((r) => (timer = setTimeout(r, 10_000)))]);
      clearTimeout(timer);
    });
    // A fresh cluster has no faults; healing anyway makes a reused one start from the same place.
    await healAll(live);
    const stopObserving = startObserving(live);
    scope.defer('stop observing', stopObserving);
    for (const [i, s] of c.steps.entries()) {
      if (s.afterMs > 0) await new Promise((r) => setTimeout(r, s.afterMs));
      const what = `step ${i + 1} (line ${s.line}: ${describeStep(s)})`;
      const t0 = Date.now();
      history.append(s.kind === 'fault' ? 'fault' : s.kind === 'workload' ? 'workload' : 'step', {
        ...(s.on ? { node: s.on } : {}),
        step: i + 1,
        line: s.line,
        what: describeStep(s),
        event: 'start',
      });
      opts.say(`${c.name}: ${what}`);
      try {
        await withDeadline(what, s.timeoutMs, () => runStep(live, s, verdicts));
      } catch (err) {
        history.append('error', { step: i + 1, line: s.line, what: describeStep(s), error: message(err) });
        if (err instanceof DeadlineError && canHang(s)) {
          live.hangs.push(`${what}: ${err.message}`);
          await captureHang(live);
          break;
        }
        throw err;
      }
      history.append('step', { step: i + 1, line: s.line, what: describeStep(s), event: 'done', durationMs: Date.now() - t0 });
    }
    const healFailures = await healAll(live);
    if (healFailures.length) throw new InfraError(`could not undo the faults in effect: ${healFailures.join('; ')}`);
    const last = c.steps.at(-1);
    const already = new Set(last?.kind === 'check' && live.hangs.length === 0 ? last.checks : []);
    await stopObserving();
    history.append('info', { what: 'end checks' });
    await checkStep(live, CHECKS.filter((n) => !already.has(n)), verdicts);
  } catch (err) {
    infra = message(err);
    history.append('error', { what: 'infrastructure', error: infra });
  } finally {
    const failures = await scope.close();
    for (const f of failures) history.append('error', { what: 'tear-down', error: f });
  }
  const failed = verdicts.filter((v) => v.valid === false);
  // Failed checks the known failure does not name: they make the case a failure of its own.
  const unexplained = unexplainedFailures(c.knownFailure, verdicts);
  const result = (status: CaseStatus, msg?: string): CaseResult => ({
    name: c.name,
    file: c.file,
    iteration: opts.iteration,
    seed: opts.seed,
    dir,
    status,
    verdicts,
    ...(msg ? { message: msg } : {}),
    durationMs: Date.now() - started,
    ...(c.knownFailure && !unexplained.length ? { knownFailure: c.knownFailure.reason } : {}),
  });
  const findings = failed.flatMap((v) => v.findings.map((f) => ({ check: v.check, invariant: v.invariant, ...f })));
  writeFileSync(join(dir, 'findings.json'), `${JSON.stringify(findings, null, 2)}\n`);
  let r: CaseResult;
  if (failed.length) {
    const nodes = (v: NamedVerdict) => [...new Set(v.findings.flatMap((f) => f.nodes ?? []))];
    const lines = failed.map((v) => {
      const regions = [...new Set(v.findings.flatMap((f) => (f.region !== undefined ? [f.region] : [])))];
      const blocks = [...new Set(v.findings.flatMap((f) => (f.block !== undefined ? [f.block] : [])))];
      const where = [
        regions.length ? `regions ${regions.join(',')}` : '',
        blocks.length ? `blocks ${blocks.slice(0, 10).join(',')}${blocks.length > 10 ? ',...' : ''}` : '',
        nodes(v).length ? `nodes ${nodes(v).join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; ');
      return `${v.invariant} violated${where ? ` (${where})` : ''}: ${v.detail}`;
    });
    const before = history.tail(6).map((e) => `  +${(e.ms / 1000).toFixed(1)}s ${e.type} ${String(e.what ?? e.check ?? e.event ?? '')}`);
    const notKnown = unexplained.length ? `not the known failure (${c.knownFailure!.checks!.join(', ')}): ${unexplained.join(', ')} failed too\n` : '';
    r = result('failed', `${notKnown}${lines.join('\n')}${infra ? `\nalso: ${infra}` : ''}\nlast events (history.jsonl):\n${before.join('\n')}\ncase dir: ${dir}`);
  } else if (infra) {
    r = result('infra', `infrastructure: ${infra}\ncase dir: ${dir}`);
  } else {
    r = result('passed');
  }
  history.append('info', { what: 'case end', status: r.status, durationMs: r.durationMs });
  if (r.status === 'passed' && !opts.keep) rmSync(dir, { recursive: true, force: true });
  return r;
}

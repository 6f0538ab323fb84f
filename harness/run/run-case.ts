/**
 * One case on a fresh cluster: boot, interpret the steps in order, heal, record the evidence, tear the
 * cluster down, judge the end from the case directory, and leave runs/<run-id>/<case>/ (removed on success
 * unless keep). Logs are collected on every exit path.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CHECKS, DM_ULOG_RETRY_TIMEOUT_MS, type Case, type CheckName } from '../case/schema.ts';
import { expandSchedule } from '../case/schedule.ts';
import { judge, verdictLine, type NamedVerdict } from '../judge/index.ts';
import { Cluster, type ClusterOptions } from '../guest/cluster/cluster.ts';
import { DeadlineError, errorMessage, InfraError } from '../base/errors.ts';
import { gatherEvidence } from './evidence/gather.ts';
import { startObserving } from './evidence/observe.ts';
import { healAll } from './faults/index.ts';
import { History, type HistoryEntry } from '../record/history.ts';
import { sharedDisks } from '../guest/mirror/table.ts';
import { DMSETUP } from '../guest/mirror/ops.ts';
import { STREAM_STOP_GRACE_MS } from '../guest/remote/ssh.ts';
import type { Progress } from '../base/progress.ts';
import { COVERAGE_COLLECTED, entriesOf, events, type CoverageFields } from '../record/events.ts';
import { collectedCoverage, saveCaseCoverage } from '../coverage/record.ts';
import { EMPTY } from '../coverage/coverage.ts';
import type { BuildCoverage } from '../stack/coverage.ts';
import { FINDINGS_FILE, HISTORY_FILE, stepPoint, type Point } from '../record/layout.ts';
import { startLaps } from '../record/laps.ts';
import { casePhases, describePhases } from '../record/phases.ts';
import { CaseRecord, faultedNodes } from '../record/read.ts';
import { Scope } from '../base/scope.ts';
import { liveNodes, newCaseContext, targetNodes, type CaseContext } from './context/case-context.ts';
import { caseName, caseResult, findingsOf, type CaseResult } from '../judge/result.ts';
import { canHang, describeStep, runStep, waitsForHeldWrite } from './steps.ts';
import { knownFailureInForce } from '../case/known-bugs.ts';

export type { CaseResult } from '../judge/result.ts';

export interface RunCaseOptions {
  runDir: string;
  /** The stack the cluster's kernel and image were built for, when the run names stacks. */
  stack?: string;
  seed: number;
  iteration: number;
  /** With the notes of the coverage builds (--coverage), whose counters are collected at each point. */
  cluster: Omit<ClusterOptions, 'name' | 'nodes' | 'sharedDisks' | 'keepDisks' | 'say'> & { coverage?: readonly BuildCoverage[] };
  keep: boolean;
  /** The stack carries every fix (--fixes): the bugs they fix are not expected to show. */
  fixes: boolean;
  say: Progress;
  /** Called once the case's cluster is gone, before its end is judged: the next case may bring up its own. */
  released?: () => void;
}

/** How long stopping the workloads waits for their exits (stopWorkloads): past the grace a stream's command has to end. */
const STOP_WAIT_MS = STREAM_STOP_GRACE_MS + 1000;

/** Names corosync's cluster and the cluster's directory inside the case directory. */
const CLUSTER_NAME = 'clog';

/**
 * Runs a step with a deadline. When it passes, the case moves on and the step is told to stop: its waits
 * give up at their next look (a dmsetup or ssh call under way still ends by its own deadline), so it
 * does not go on polling through the heal and the end checks.
 */
async function withDeadline<T>(what: string, ms: number, body: (cancelled: () => string | undefined) => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let over = false;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      over = true;
      reject(new DeadlineError(what, ms / 1000, 'the step still running'));
    }, ms);
  });
  try {
    return await Promise.race([body(() => (over ? `${what} ran past its deadline` : undefined)), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Asks every workload process to end (SIGTERM, so its last log lines still arrive; see Ssh.stream; a stuck
 * one is cut off and left to its guest's end) and waits a little for their exits,
 * which are still being written to history.jsonl. A writer stuck in I/O does not exit at all (its channel
 * does not close while it lives), and every hung case used to wait out 10 s for it here. No check reads
 * the exits (the writers' logs are the evidence), so a later exit is only recorded later. Only the first
 * call waits: a writer that did not exit before the end checks will not exit at tear-down either.
 */
async function stopWorkloads(ctx: CaseContext): Promise<void> {
  if (ctx.workloadsStopped) return;
  ctx.workloadsStopped = true;
  const procs = ctx.workloads.flatMap((w) => w.procs);
  procs.forEach((p) => p.stop());
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(procs.map((p) => p.done)), new Promise((r) => (timer = setTimeout(r, STOP_WAIT_MS)))]);
  clearTimeout(timer);
}

/** Kernel task dumps of every live node into the case directory, for a step that hung. */
async function captureHang(ctx: CaseContext): Promise<void> {
  // Every device's status first: a dm-delay layer's counts say whether the stuck writes sit in the slowed
  // layer under the mirror or above it. A status that waits on a stuck cmirrord is cut short.
  const devices = `echo '# dmsetup status'; timeout 10 ${DMSETUP} status; echo '# dmsetup table'; timeout 10 ${DMSETUP} table; echo '# kernel log, with sysrq w and t'`;
  await Promise.allSettled(
    liveNodes(ctx).map(async (n) => {
      const r = await n.exec(`${devices}; echo w > /proc/sysrq-trigger; echo t > /proc/sysrq-trigger; dmesg`, { timeoutMs: 30_000 });
      writeFileSync(join(ctx.dir, `${n.name}-sysrq.txt`), r.stdout);
    }),
  );
}

/**
 * Judges `names` at `point` from the case directory alone, recording and saying each verdict; `who` names
 * the case on each line where the next case's progress may already be interleaved (the end).
 */
async function judgeAt(rec: Pick<CaseContext, 'dir' | 'history' | 'say'>, point: Point, names: readonly CheckName[], who?: string): Promise<NamedVerdict[]> {
  const verdicts = await judge(CaseRecord.read(rec.dir), point, names);
  for (const v of verdicts) {
    events.check(rec.history, { check: v.check, point, valid: v.valid, detail: v.detail, judged: v.judged, findings: v.findings.length });
    rec.say(`  ${who ? `${who}: ` : ''}${verdictLine(v)}`);
  }
  return verdicts;
}

/**
 * The case's coverage from its collections, kept under the run (the case directory goes when it passes).
 * Counters that cannot be read are said, and listed as lost with the case: coverage is not a verdict.
 */
async function recordCoverage(dir: string, runDir: string, builds: readonly BuildCoverage[], entries: readonly HistoryEntry[], say: Progress): Promise<void> {
  const lost = entriesOf<CoverageFields>(entries, 'info')
    .filter((e) => e.what === COVERAGE_COLLECTED)
    .flatMap((e) => e.lost.map((l) => `${e.point}: ${l}`));
  let coverage = EMPTY;
  try {
    coverage = await collectedCoverage(dir, builds);
  } catch (err) {
    const why = `coverage not read: ${errorMessage(err)}`;
    say(`${basename(dir)}: ${why}`);
    lost.push(why);
  }
  saveCaseCoverage(dir, runDir, { case: basename(dir), lost, coverage });
}

export async function runCase(original: Case, opts: RunCaseOptions): Promise<CaseResult> {
  const started = Date.now();
  const c = expandSchedule(original, opts.seed);
  const name = caseName({ name: c.name, stack: opts.stack });
  const dir = join(opts.runDir, opts.iteration > 1 ? `${name}.${opts.iteration}` : name);
  mkdirSync(dir, { recursive: true });
  const history = new History(join(dir, HISTORY_FILE));
  const runId = opts.seed;
  events.caseStart(history, { case: c, seed: opts.seed, runId, ...(opts.stack ? { stack: opts.stack } : {}), ...(opts.fixes ? { fixes: true } : {}) });
  const verdicts: NamedVerdict[] = [];
  const scope = new Scope((l) => opts.say(l));
  let infra: string | undefined;
  // The case could not be carried out (or judged): an infrastructure error, not a finding.
  const failedToRun = (err: unknown) => {
    infra = errorMessage(err);
    history.append('error', { what: 'infrastructure', error: infra });
  };
  let hangDumpMs = 0;
  let endRecorded = false;
  const { coverage = [], ...clusterOptions } = opts.cluster;
  try {
    const cluster = await Cluster.start(
      {
        ...clusterOptions,
        name: CLUSTER_NAME,
        nodes: c.topology.nodes,
        sharedDisks: sharedDisks(c.topology),
        logRetryTimeoutMs: c.topology.logRetryTimeoutMs === DM_ULOG_RETRY_TIMEOUT_MS ? undefined : c.topology.logRetryTimeoutMs,
        keepDisks: true,
        parentDir: dir,
        seed: opts.seed,
        say: opts.say,
      },
      scope,
    );
    events.clusterUp(history, { dir: cluster.runDir, timings: cluster.timings });
    events.clocks(history, { readings: cluster.clocks });
    const ctx = newCaseContext({ case: c, seed: opts.seed, runId, cluster, dir, history, say: opts.say, coverage });
    // Registered first: whatever fails later, the writers are stopped before the cluster goes.
    scope.defer('stop workloads', () => stopWorkloads(ctx));
    // A fresh cluster has no faults; healing anyway makes a reused one start from the same place.
    await healAll(ctx);
    const stopObserving = startObserving(ctx);
    scope.defer('stop observing', stopObserving);
    // From a wait for a held write until the step after it is done, samples do not freeze the cluster.
    let releaseFreezesAfter = -1;
    for (const [i, s] of c.steps.entries()) {
      if (s.afterMs > 0) await new Promise((r) => setTimeout(r, s.afterMs));
      if (waitsForHeldWrite(s)) {
        ctx.freezesHeld = true;
        releaseFreezesAfter = i + 1;
      }
      const what = `step ${i + 1} (line ${s.line}: ${describeStep(s)})`;
      const t0 = Date.now();
      // A check step as the last step is the end point, where every check is judged anyway.
      if (s.kind === 'check' && i === c.steps.length - 1) break;
      events.step(history, { step: i + 1, line: s.line, kind: s.kind, what: describeStep(s), event: 'start', ...(s.kind === 'mirror' ? { op: s.op, nodes: targetNodes(ctx, s.on).map((n) => n.id) } : {}) });
      opts.say(`${c.name}: ${what}`);
      try {
        if (s.kind === 'check') {
          await gatherEvidence(ctx, stepPoint(i + 1), { stayFrozen: false });
          verdicts.push(...(await judgeAt(ctx, stepPoint(i + 1), s.checks)));
        }
        else await withDeadline(what, s.timeoutMs, (cancelled) => runStep(ctx, s, i + 1, cancelled));
      } catch (err) {
        history.append('error', { step: i + 1, line: s.line, what: describeStep(s), error: errorMessage(err) });
        if (err instanceof DeadlineError && canHang(s)) {
          const hang = `${what}: ${err.message}`;
          ctx.hangs.push(hang);
          events.hang(history, { what: hang, step: i + 1 });
          const t = Date.now();
          await captureHang(ctx);
          hangDumpMs = Date.now() - t;
          break;
        }
        throw err;
      }
      events.step(history, { step: i + 1, line: s.line, kind: s.kind, what: describeStep(s), event: 'done', durationMs: Date.now() - t0 });
      if (i === releaseFreezesAfter) ctx.freezesHeld = false;
    }
    ctx.freezesHeld = false;
    const windDown = startLaps();
    const healFailures = await healAll(ctx);
    if (healFailures.length) throw new InfraError(`could not undo the faults in effect: ${healFailures.join('; ')}`);
    windDown.lap('heal');
    await stopObserving();
    windDown.lap('observers');
    // Before the end freeze: a frozen guest cannot close a writer's channel.
    await stopWorkloads(ctx);
    windDown.lap('workloads');
    events.endChecks(history, { windDownMs: { ...(hangDumpMs ? { 'hang dumps': hangDumpMs } : {}), ...windDown.parts } });
    // Frozen for good: nothing changes the disks between this and the tear-down, which leaves them in the case directory.
    await gatherEvidence(ctx, 'end', { stayFrozen: true });
    endRecorded = true;
  } catch (err) {
    failedToRun(err);
  } finally {
    const failures = await scope.close();
    for (const f of failures) history.append('error', { what: 'tear-down', error: f });
    events.teardownDone(history);
  }
  // The end is judged from the case directory alone, after the tear-down: the next case's cluster comes
  // up meanwhile (2-7 s of judging a case here).
  opts.released?.();
  if (endRecorded) {
    try {
      verdicts.push(...(await judgeAt({ dir, history, say: opts.say }, 'end', CHECKS, name)));
    } catch (err) {
      failedToRun(err);
    }
  }
  const knownFailure = knownFailureInForce(c.knownFailure, { fixes: opts.fixes });
  // Read only for a failure: the corosync logs the tear-down pulled.
  const outOfModel = endRecorded && verdicts.some((v) => v.valid === false) ? CaseRecord.read(dir).outOfModel() : undefined;
  const r: CaseResult = caseResult({
    name: c.name,
    ...(opts.stack ? { stack: opts.stack } : {}),
    file: c.file,
    tags: c.tags,
    iteration: opts.iteration,
    seed: opts.seed,
    dir,
    durationMs: Date.now() - started,
    verdicts,
    ...(knownFailure ? { knownFailure } : {}),
    explainContext: { faultedNodes: faultedNodes(history.entries()) },
    ...(infra ? { infra } : {}),
    ...(outOfModel ? { outOfModel } : {}),
    lastEvents: history.tail(6),
  });
  writeFileSync(join(dir, FINDINGS_FILE), `${JSON.stringify(findingsOf(verdicts), null, 2)}\n`);
  events.caseEnd(history, {
    status: r.status,
    outcome: r.outcome,
    durationMs: r.durationMs,
    ...(r.known ? { known: { bugs: r.known.bugs, explained: r.known.explained.length, unexplained: r.known.unexplained.length } } : {}),
  });
  const entries = history.entries();
  const phases = casePhases(entries);
  events.phases(history, phases);
  r.phases = phases;
  opts.say(`${c.name}: ${describePhases(phases)}`);
  if (coverage.length) await recordCoverage(dir, opts.runDir, coverage, entries, opts.say);
  if (r.outcome === 'passed' && !opts.keep) rmSync(dir, { recursive: true, force: true });
  return r;
}


/**
 * Writers and readers (vm-images/guest/clogwrite.py) in the guests, in the background.
 *
 * Each one's JSON-lines log is streamed over its SSH channel straight into the case directory
 * as it is written, rather than kept in the guest: a crashed guest loses its tmpfs, and a log
 * downloaded just before a crash would miss the writes acknowledged after the download, which
 * the oracle would then find on disk as writes nobody logged.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Step, Workload } from '../../case/schema.ts';
import { DeadlineError, InfraError } from '../../base/errors.ts';
import { GUEST_LOG_DIR } from '../../base/guest-contract.ts';
import { DMSETUP } from '../../guest/mirror/ops.ts';
import { mapperPath } from '../../guest/mirror/table.ts';
import { repoRoot } from '../../base/paths.ts';
import { shellQuote } from '../../base/proc.ts';
import { events } from '../../record/events.ts';
import { WRITES_DIR } from '../../record/layout.ts';
import { targetNodes, WRITER_START_GRACE_MS, type CaseContext, type WorkloadRun } from '../context/case-context.ts';
import { ranges } from '../../oracle/disk-log.ts';
import { assignRegions } from './assign.ts';
import { writerPlan } from './slots.ts';

export const GUEST_CLOGWRITE = '/run/clogtest/clogwrite.py';
const CLOGWRITE = join(repoRoot, 'vm-images', 'guest', 'clogwrite.py');
/** Sequence numbers of a node's writer number n start at n * SEQ_STRIDE + 1, so they never repeat within a run (slots.ts). */
export const SEQ_STRIDE = 1_000_000_000;
/** A duration workload stops itself; this count only has to outlast the duration. */
const UNBOUNDED = 1_000_000_000;

export function writesDir(caseDir: string): string {
  return join(caseDir, WRITES_DIR);
}

/** The guest command line of one writer or reader (pure, so it is tested with exact strings). */
export function clogwriteCommand(o: {
  dev: string;
  node: number;
  runId: number;
  blockSize: number;
  regions: readonly number[];
  regionSize: number;
  seqStart: number;
  read: boolean;
  /** A writer's share of the blocks: those whose index mod `of` is `index` (readers read any). */
  slot?: { index: number; of: number };
  /** Writes in flight at once (writers only). */
  depth?: number;
  count?: number;
  durationMs?: number;
  errLog: string;
}): string {
  const args = [
    'python3', GUEST_CLOGWRITE, '--dev', o.dev, '--node', `${o.node}`, '--run-id', `${o.runId}`,
    '--block-size', `${o.blockSize}`, '--regions', ranges(o.regions), '--region-size', `${o.regionSize}`,
    '--random', ...(o.slot ? ['--slot', `${o.slot.index}/${o.slot.of}`] : []), ...(o.depth && o.depth > 1 ? ['--depth', `${o.depth}`] : []), '--count', `${o.count ?? UNBOUNDED}`,
    ...(o.durationMs === undefined ? [] : ['--duration', (o.durationMs / 1000).toFixed(3)]),
    ...(o.read ? ['--read'] : ['--seq-start', `${o.seqStart}`]), '--log', '-',
  ];
  const timeout = o.durationMs === undefined ? '' : `timeout ${((o.durationMs + WRITER_START_GRACE_MS) / 1000).toFixed(3)} `;
  return `${timeout}${args.map(shellQuote).join(' ')} 2>>${shellQuote(o.errLog)}`;
}

/** `dmsetup status` and `dmsetup table` of every device, back to back for `durationMs`; prints how many rounds it made. */
export function statusLoopCommand(durationMs: number): string {
  const s = Math.ceil(durationMs / 1000);
  return `end=$(( $(date +%s) + ${s} )); n=0; while [ $(date +%s) -lt $end ]; do ${DMSETUP} status >/dev/null && ${DMSETUP} table >/dev/null || exit 1; n=$((n+1)); done; echo "status loop: $n rounds"`;
}

/** A duration workload ends by itself with 0; `timeout` ending a stuck one with 124 is for the checks to judge, not an error of the workload. */
export function normalExit(code: number | null, w: Workload): boolean {
  return code === 0 || (w.durationMs !== undefined && code === 124);
}

export async function startWorkload(ctx: CaseContext, step: Extract<Step, { kind: 'workload' }>): Promise<WorkloadRun> {
  const w = step.workload;
  const nodes = targetNodes(ctx, step.on);
  const mirror = ctx.mirrors[w.mirror]!;
  const assigned = assignRegions(w.regions, nodes.map((n) => n.id), mirror.regions);
  const plan = writerPlan(ctx.case.steps, step, ctx.case.topology.nodes);
  const dir = writesDir(ctx.dir);
  mkdirSync(dir, { recursive: true });
  const script = readFileSync(CLOGWRITE);
  const run: WorkloadRun = { name: w.name, workload: w, procs: [] };
  // Registered before any process starts, so the case's clean-up stops whatever did start if the rest fail.
  ctx.workloads.push(run);
  await Promise.all(
    nodes.map(async (node, pos) => {
      await node.execOrThrow(`mkdir -p /run/clogtest ${GUEST_LOG_DIR}`, { timeoutMs: step.timeoutMs });
      await node.ssh.upload(script, GUEST_CLOGWRITE, { mode: '755', timeoutMs: step.timeoutMs });
      const regions = assigned.get(node.id)!;
      const jobs = [
        // Every writer of the case, on any node, writes its own blocks (see --slot in clogwrite.py).
        ...Array.from({ length: w.writers }, (_, k) => ({
          label: `w${k}`,
          read: false,
          seqStart: (plan.seqBase + k) * SEQ_STRIDE + 1,
          slot: { index: plan.slotBase + pos * w.writers + k, of: plan.slotCount },
        })),
        ...(w.readers ? [{ label: 'r', read: true, seqStart: 1, slot: undefined }] : []),
      ];
      if (w.statusLoop && w.durationMs !== undefined) {
        const base = `${w.name}-${node.name}-status`;
        const stream = await node.ssh.stream(statusLoopCommand(w.durationMs), join(dir, `${base}.log`));
        run.procs.push({ node: node.id, label: 'status', log: join(dir, `${base}.log`), done: stream.done, stop: stream.stop, errLog: '(stdout)' });
        ctx.history.append('info', { node: node.id, what: 'status loop', workload: w.name });
      }
      for (const job of jobs) {
        const base = `${w.name}-${node.name}-${job.label}`;
        const errLog = `${GUEST_LOG_DIR}/${base}.err`;
        const cmd = clogwriteCommand({
          dev: mapperPath(mirror.name),
          node: node.id,
          runId: ctx.runId,
          blockSize: w.blockSize,
          regions,
          regionSize: ctx.case.topology.regionSize,
          seqStart: job.seqStart,
          read: job.read,
          ...(job.slot ? { slot: job.slot } : {}),
          ...(job.read ? {} : { depth: w.depth }),
          count: w.count,
          durationMs: w.durationMs,
          errLog,
        });
        const log = join(dir, `${base}.jsonl`);
        const stream = await node.ssh.stream(cmd, log);
        run.procs.push({ node: node.id, label: job.label, log, done: stream.done, stop: stream.stop, errLog });
        events.workloadStart(ctx.history, { workload: w.name, mirror: w.mirror, node: node.id, proc: job.label, log: relative(ctx.dir, log), event: 'start' });
        ctx.history.append('info', { node: node.id, what: 'workload command', workload: w.name, proc: job.label, regions: ranges(regions), cmd });
      }
    }),
  );
  for (const p of run.procs) {
    void p.done.then((code) => {
      const ok = normalExit(code, w);
      // A writer that outlives its case (one stuck in D state) may exit after the case directory is gone.
      if (!existsSync(ctx.history.file)) return;
      ctx.history.append(ok ? 'workload' : 'error', {
        node: p.node,
        workload: w.name,
        event: 'exit',
        proc: p.label,
        code,
        ...(ok ? {} : { why: code !== null ? `exited ${code}; see ${p.errLog}` : ctx.workloadsStopped ? 'stopped by the harness' : 'ssh channel closed (node crashed or reset?)' }),
      });
    });
  }
  return run;
}

/** Waits for the named workloads (all when none named) to end; the deadline message names the ones still running. */
export async function waitWorkloads(runs: readonly WorkloadRun[], deadlineMs: number): Promise<void> {
  const pending = new Set(runs.flatMap((r) => r.procs.map((p) => ({ p, r }))));
  const all = Promise.all([...pending].map(async (x) => {
    await x.p.done;
    pending.delete(x);
  }));
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), deadlineMs)));
  try {
    if ((await Promise.race([all, expired])) === 'expired') {
      const still = [...pending].map((x) => `${x.r.name} node${x.p.node} ${x.p.label}`).join(', ');
      throw new DeadlineError(`workloads ${runs.map((r) => r.name).join(', ')} to end`, deadlineMs / 1000, `still running: ${still}`);
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A writer or reader that failed before logging a single operation never ran: that is the
 * harness's failure (a broken script, a missing device), not a finding about the mirror.
 */
export async function checkStarted(ctx: CaseContext, runs: readonly WorkloadRun[]): Promise<void> {
  for (const r of runs) {
    for (const p of r.procs) {
      const code = await p.done;
      if (code === null || normalExit(code, r.workload) || ctx.down.has(p.node)) continue;
      if (statSync(p.log).size > 0) continue;
      const err = await ctx.cluster.node(p.node).exec(`tail -n 5 ${shellQuote(p.errLog)}`, { timeoutMs: 20_000 });
      throw new InfraError(`workload ${r.name} node${p.node} ${p.label} exited ${code} before its first operation: ${err.stdout.trim() || '(no stderr)'}`);
    }
  }
}

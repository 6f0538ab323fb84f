/**
 * What the checks need from the middle of a case rather than its end, recorded into the history as it happens:
 *   - polls, every couple of seconds on every live node: whether cmirrord runs, the members of each log's CPG
 *     group, each log device's count of completed writes, and the mirrors' `dmsetup status` (single-writer,
 *     nodes-agree during I/O);
 *   - samples, while workloads run: the cluster frozen and the log devices and the blocks where the legs differ
 *     copied out (dirty-before-write, clean-implies-equal). When a slow-leg or slow-log fault is in effect, a
 *     sample is taken the moment a data write is held in the slowed layer (the window in which a write is on
 *     some legs and not others, or marked and not yet flushed); otherwise at seeded random moments.
 * Samples go to <case>/samples/ as files (log bytes, sparse leg images), so they cost memory only while written
 * and stay for a post-mortem.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { mirrorBlockBytes } from '../../case/schema.ts';
import { hostNowNs } from '../../guest/cluster/clock.ts';
import type { Node } from '../../guest/cluster/node.ts';
import { errorMessage } from '../../base/errors.ts';
import { DMSETUP, heldWriteWaiter } from '../../guest/mirror/ops.ts';
import { cmirrordLogBytes } from '../../oracle/disk-log.ts';
import { events, type PollFields } from '../../record/events.ts';
import { sampleFile, SAMPLES_DIR } from '../../record/layout.ts';
import { seededRandom } from '../../base/random.ts';
import { diskFile, liveNodes, slowedLayers, type CaseContext, type WorkloadProc, WRITER_START_GRACE_MS } from '../context/case-context.ts';
import { frozenNow, guestNowNs, inTurn } from './freeze.ts';

/** Enough freezes to catch writes in flight, few enough that freezing does not become the workload. */
const MAX_SAMPLES = 12;
const POLL_GAP_MS = 2000;
const MIN_GAP_MS = 1000;
const MAX_GAP_MS = 4000;
/**
 * How long one round of guest-side waiting for a held write lasts before the sampler looks again. A round
 * returns as soon as a write is held, so only a slowed node that does not write pays for its length; a
 * short one lets a busy TCG guest's writers start too late for it (many-mirrors: 27 writers and readers
 * on three guests, two 5 s rounds found nothing and the random sample then held no write in flight).
 */
const HELD_WAIT_S = 15;
/** Rounds of waiting for a held write in vain before a random moment is sampled instead. */
const MAX_IDLE_WAITS = 2;
const COMMAND_MS = 10_000;
/** How often the sampler looks for the writers' first operation. */
const START_LOOK_MS = 250;
const CHUNK_BYTES = 1 << 20;

/**
 * Offsets of the blocks that are not byte-identical on every leg, within `bufs` read at `base`.
 * Blocks equal on every leg cannot hold a write that is on some legs but not on all, the only kind the
 * dirty-before-write check judges, and equal blocks cannot break clean-implies-equal: a sample keeps just these.
 */
export function differingBlocks(bufs: readonly Buffer[], base: number, blockBytes: number): number[] {
  const out: number[] = [];
  const len = Math.min(...bufs.map((b) => b.length));
  for (let off = 0; off + blockBytes <= len; off += blockBytes) {
    const first = bufs[0]!.subarray(off, off + blockBytes);
    if (bufs.some((b) => !b.subarray(off, off + blockBytes).equals(first))) out.push(base + off);
  }
  return out;
}

/**
 * The guest command of one poll: lines with markers the parser below reads back. Shell builtins read the
 * sysfs files: every process started in a guest costs a slice of a TCG host.
 */
export function pollCommand(withStatus: boolean): string {
  return [
    'pidof cmirrord >/dev/null && echo DAEMON 1 || echo DAEMON 0',
    // One "GROUP;PID;NODEID" line per member of each CPG group; cmirrord names a log's group by its UUID.
    'corosync-cpgtool -d ";" 2>/dev/null | sed "s/^/CPG /"',
    // Field 5 of a block device's stat is its count of completed writes.
    'for d in /sys/block/dm-*; do read -r n < $d/dm/name && read -r _ _ _ _ w _ < $d/stat && echo "DISK $n $w"; done',
    ...(withStatus ? [`${DMSETUP} status --target mirror 2>/dev/null | sed "s/^/STATUS /"`] : []),
  ].join('; ');
}

/**
 * A poll's output as history fields. `logDevices` maps a log layer's dm name to its log's UUID.
 * corosync-cpgtool -d prints "GROUP;PID;NODEID" per member, with unprintable characters of the group
 * name escaped: cmirrord's names end in a NUL, printed as "\x00".
 */
export function parsePoll(node: number, round: number, out: string, logDevices: ReadonlyMap<string, string>, uuids: readonly string[]): PollFields {
  const fields: PollFields = { node, round, daemon: /^DAEMON 1$/m.test(out), groups: {}, logWrites: {} };
  const status: string[] = [];
  for (const raw of out.split('\n')) {
    if (raw.startsWith('CPG ')) {
      const [name, , id] = raw.slice(4).trim().split(';');
      const group = (name ?? '').replace(/(\\x00|\0)+$/, '');
      if (uuids.includes(group) && id !== undefined && /^\d+$/.test(id)) (fields.groups[group] ??= []).push(Number(id));
    } else if (raw.startsWith('DISK ')) {
      const [, name, writes] = raw.split(' ');
      const uuid = logDevices.get(name ?? '');
      if (uuid && writes !== undefined && /^\d+$/.test(writes)) fields.logWrites[uuid] = Number(writes);
    } else if (raw.startsWith('STATUS ')) status.push(raw.slice(7));
  }
  for (const g of Object.values(fields.groups)) g.sort((a, b) => a - b);
  if (status.length) fields.status = `${status.join('\n')}\n`;
  return fields;
}

/** `stopped` says the observing has ended: a poll that answers after that is dropped, as the end evidence is already being taken. */
async function pollNodes(ctx: CaseContext, round: number, stopped: () => boolean): Promise<void> {
  const logDevices = new Map(ctx.mirrors.flatMap((m, i) => (m.log ? [[m.log.dm, ctx.uuids[i]!] as const] : [])));
  const cmd = pollCommand(ctx.mirrorsLoaded);
  await Promise.all(
    liveNodes(ctx).map(async (n) => {
      const r = await n.exec(cmd, { timeoutMs: COMMAND_MS }).catch(() => undefined);
      // No answer (a node paused, or frozen by a sample) is no observation: its last view stands.
      if (!r || !/^DAEMON [01]$/m.test(r.stdout) || stopped()) return;
      events.poll(ctx.history, parsePoll(n.id, round, r.stdout, logDevices, ctx.uuids));
    }),
  );
}

async function readAt(file: string, offset: number, length: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** With the cluster frozen: the log device's bytes and a sparse image of each leg holding only the blocks where the legs differ. */
async function copyOut(ctx: CaseContext, sample: number, mirror: number, blockBytes: number) {
  const m = ctx.mirrors[mirror]!;
  const log = m.log ? sampleFile(sample, mirror, 'log') : null;
  if (m.log) writeFileSync(join(ctx.dir, log!), await readAt(diskFile(ctx, m.log.serial), 0, cmirrordLogBytes(m.regions)));
  const legs = m.legs.map((l, i) => ({ label: `${m.name}/leg${i}`, src: diskFile(ctx, l.serial), file: sampleFile(sample, mirror, `leg${i}`) }));
  const outs: Awaited<ReturnType<typeof open>>[] = [];
  try {
    for (const l of legs) {
      writeFileSync(join(ctx.dir, l.file), '');
      outs.push(await open(join(ctx.dir, l.file), 'r+'));
    }
    const bytes = m.sectors * 512;
    for (let off = 0; off < bytes; off += CHUNK_BYTES) {
      const bufs = await Promise.all(legs.map((l) => readAt(l.src, off, Math.min(CHUNK_BYTES, bytes - off))));
      for (const at of differingBlocks(bufs, off, blockBytes)) {
        await Promise.all(outs.map((fh, i) => fh.write(bufs[i]!, at - off, blockBytes, at)));
      }
    }
    await Promise.all(outs.map((fh) => fh.truncate(bytes)));
  } finally {
    await Promise.all(outs.map((fh) => fh.close()));
  }
  return { log, legs: legs.map((l) => ({ label: l.label, file: l.file })) };
}

/**
 * Each live node's guest clock at the freeze, estimated (guestNowNs): asking the guests would cost a round
 * trip each, and a write held for a second would be gone by then. Judging stays safe with the estimate off
 * by the skew: a write counts as in flight only if it started before the estimate and its ack came after
 * it, and then only if its data is on some legs but not all.
 */
function freezeTimes(ctx: CaseContext, nodes: readonly Node[]): Record<string, number> {
  const now = hostNowNs();
  const out: Record<string, number> = {};
  for (const n of nodes) {
    const t = guestNowNs(ctx, n.id, now);
    if (t !== undefined) out[String(n.id)] = t;
  }
  return out;
}

/**
 * One freeze: every mirror a running workload writes is copied out, with each live node's clock at the freeze.
 * False, and nothing frozen, while a step waits for a held write and the step after it acts on it.
 */
async function takeSample(ctx: CaseContext, sample: number, mirrors: number[], trigger: string): Promise<boolean> {
  mkdirSync(join(ctx.dir, SAMPLES_DIR), { recursive: true });
  return inTurn(ctx, async () => {
    if (ctx.freezesHeld) return false;
    const nodes = liveNodes(ctx);
    const freezeNs = freezeTimes(ctx, nodes);
    await frozenNow(ctx, async () => {
      for (const mirror of mirrors) {
        const files = await copyOut(ctx, sample, mirror, mirrorBlockBytes(ctx.case, mirror));
        events.sample(ctx.history, { sample, mirror, freezeNs, ...files, trigger });
      }
    });
    return true;
  });
}

/** Live nodes with a slowed leg or log, and their dm-delay layers. */
function slowedNodes(ctx: CaseContext): Array<{ n: Node; dms: string[] }> {
  return liveNodes(ctx).flatMap((n) => {
    const dms = [...slowedLayers(ctx, n.id, 'leg'), ...slowedLayers(ctx, n.id, 'log')];
    return dms.length ? [{ n, dms }] : [];
  });
}

let waiterRounds = 0;

/** One round of guest-side waiters for a held write: a stop file tells them all to give up. */
interface WaiterRound {
  stopFile: string;
  nodes: Node[];
}

function stopWaiters(round: WaiterRound): Promise<unknown> {
  return Promise.all(round.nodes.map((n) => n.exec(`touch ${round.stopFile}`, { timeoutMs: COMMAND_MS }).catch(() => undefined)));
}

/**
 * Resolves with which node holds a data write in which slowed layer, or undefined when none did within
 * HELD_WAIT_S. The waiting happens inside the guests; once one waiter has found a write, the others are
 * told to stop (the round's stop file), so waiters do not pile up in the guests. `round` is the caller's,
 * so that stopping the observers can end a round early.
 */
async function heldWriteOn(waiting: Array<{ n: Node; dms: string[] }>, round: WaiterRound): Promise<string | undefined> {
  const one = (n: Node, dms: string[]) =>
    n.exec(heldWriteWaiter(dms, HELD_WAIT_S, { stopFile: round.stopFile }), { timeoutMs: HELD_WAIT_S * 1000 + COMMAND_MS }).then((r) =>
      r.code === 0 ? `${n.name}: write held in ${dms.join(', ')}` : Promise.reject(new Error(`waiter exited ${r.code}`)),
    );
  const found = await Promise.any(waiting.map(({ n, dms }) => one(n, dms))).catch(() => undefined);
  if (found && waiting.length > 1) void stopWaiters(round);
  return found;
}

/**
 * Whether a running writer or reader (on a slowed node, when there are any) has logged its first operation,
 * or has had WRITER_START_GRACE_MS to log it. Nothing is in flight before that, and under TCG a guest-side waiter
 * started then takes CPU from the Pythons starting beside it: healthy-sync's took 6-12 s to start so.
 */
function firstOperationLogged(ctx: CaseContext, finished: ReadonlySet<WorkloadProc>, watchedAt: ReadonlyMap<WorkloadProc, number>, slowed: ReadonlyArray<{ n: Node }>): boolean {
  const on = new Set(slowed.map((x) => x.n.id));
  const procs = ctx.workloads.flatMap((w) => w.procs).filter((p) => !finished.has(p) && (on.size === 0 || on.has(p.node)));
  if (procs.length === 0) return true;
  if (Math.min(...procs.map((p) => watchedAt.get(p) ?? 0)) + WRITER_START_GRACE_MS <= Date.now()) return true;
  return procs.some((p) => existsSync(p.log) && statSync(p.log).size > 0);
}

const sleep = (ms: number, wake: { fn: () => void }) =>
  new Promise<void>((r) => {
    const timer = setTimeout(r, ms);
    wake.fn = () => (clearTimeout(timer), r());
  });

/**
 * Starts observing; the returned function stops it. Stopping waits only for a sample under way (it thaws
 * what it froze); a poll under way is left to end by its own deadline and its answer dropped, and a round
 * of guest-side waiters is told to stop: on a node whose log hangs, each used to hold the end of a case
 * for up to their deadlines.
 */
export function startObserving(ctx: CaseContext): () => Promise<void> {
  const random = seededRandom(ctx.seed ^ 0x5a3c);
  const finished = new Set<WorkloadProc>();
  let stopped = false;
  let waiters: WaiterRound | undefined;
  let sample: Promise<void> | undefined;
  const pollWake = { fn: () => {} };
  const sampleWake = { fn: () => {} };
  void (async () => {
    for (let round = 1; !stopped; round++) {
      await pollNodes(ctx, round, () => stopped).catch((err: unknown) => ctx.history.append('error', { what: 'poll', error: errorMessage(err) }));
      await sleep(POLL_GAP_MS, pollWake);
    }
  })();
  void (async () => {
    let taken = 0;
    let idleWaits = 0;
    const watchedAt = new Map<WorkloadProc, number>();
    while (!stopped && taken < MAX_SAMPLES) {
      for (const w of ctx.workloads) {
        for (const p of w.procs) {
          if (watchedAt.has(p)) continue;
          watchedAt.set(p, Date.now());
          void p.done.then(() => finished.add(p));
        }
      }
      const running = () => [...new Set(ctx.workloads.filter((w) => w.procs.some((p) => !finished.has(p))).map((w) => w.workload.mirror))];
      if (running().length === 0) {
        await sleep(MIN_GAP_MS, sampleWake);
        continue;
      }
      const slowed = slowedNodes(ctx);
      if (!firstOperationLogged(ctx, finished, watchedAt, slowed)) {
        await sleep(START_LOOK_MS, sampleWake);
        continue;
      }
      // With a slowed layer, the moment a write is held in it is the one worth a freeze: wait for the next.
      // When none comes (the slowed node does not write), a random moment still samples the log.
      let trigger: string | undefined;
      if (slowed.length) {
        waiters = { stopFile: `/run/clogtest/waiter-stop-${process.pid}-${++waiterRounds}`, nodes: slowed.map((x) => x.n) };
        trigger = await heldWriteOn(slowed, waiters);
        waiters = undefined;
      }
      if (stopped) break;
      if (slowed.length && !trigger && ++idleWaits < MAX_IDLE_WAITS) {
        await sleep(MIN_GAP_MS, sampleWake);
        continue;
      }
      idleWaits = 0;
      if (!trigger) {
        await sleep(MIN_GAP_MS + random() * (MAX_GAP_MS - MIN_GAP_MS), sampleWake);
        trigger = 'a random moment';
      }
      if (stopped) break;
      const mirrors = running();
      if (stopped || mirrors.length === 0) continue;
      const number = taken + 1;
      const took = takeSample(ctx, number, mirrors, trigger).catch((err: unknown) => {
        ctx.history.append('error', { what: 'sample', sample: number, error: errorMessage(err) });
        return true;
      });
      sample = took.then(() => undefined);
      if (await took) taken = number;
      sample = undefined;
      await sleep(MIN_GAP_MS, sampleWake);
    }
  })();
  return async () => {
    stopped = true;
    pollWake.fn();
    sampleWake.fn();
    await Promise.all([sample, waiters && stopWaiters(waiters)]);
  };
}

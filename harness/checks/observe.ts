/**
 * What two checks need from the middle of a case rather than its end:
 *   - dirty-before-write: while workloads run, at seeded random moments, each live node's guest clock and then,
 *     with the cluster frozen, the log device and the blocks where the legs differ;
 *   - single-writer: each live node's corosync membership, polled all along.
 * Samples go to <case>/samples/ as files (log bytes, sparse leg images), so they cost memory only while written
 * and stay for a post-mortem.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { parseQuorumtool } from '../cluster/quorum.ts';
import type { HistoryEntry } from '../history.ts';
import type { Membership } from '../oracle/checks/index.ts';
import { cmirrordLogBytes } from '../oracle/disk-log.ts';
import { seededRandom } from '../random.ts';
import { liveNodes, type CaseContext } from '../runner/context.ts';
import { diskFile, frozenNow, inTurn } from './common.ts';

export interface FrozenSample {
  sample: number;
  mirror: number;
  /** Each live node's guest clock (CLOCK_REALTIME, ns) read just before the freeze. */
  freezeNs: Record<number, number>;
  /** The log device's bytes at the freeze. */
  logFile: string;
  /** Per leg: an image as long as the leg holding only the blocks where the legs differed, zeros elsewhere. */
  legFiles: Array<{ label: string; file: string }>;
}

export interface Observations {
  samples: FrozenSample[];
  memberships: Membership[];
}

export const emptyObservations = (): Observations => ({ samples: [], memberships: [] });

/** Enough moments to catch writes in flight, few enough that freezing does not become the workload. */
const MAX_SAMPLES = 12;
const MIN_GAP_MS = 1000;
const MAX_GAP_MS = 4000;
const POLL_TIMEOUT_MS = 5000;
const CHUNK_BYTES = 1 << 20;

/**
 * Offsets of the blocks that are not byte-identical on every leg, within `bufs` read at `base`.
 * Blocks equal on every leg cannot hold a write that is on some legs but not on all, the only kind the
 * dirty-before-write check judges, so the sample keeps just these.
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

const FENCING = new Set(['fault crash', 'fault reset', 'fault kill-daemon', 'fault kill-corosync']);
const SPLITTING = new Set(['fault partition', 'fault isolate']);

/**
 * Nodes the harness took out (crash, reset, daemon kill) while the network was split: the fencing that makes
 * two sides of a partition safe. From history.jsonl as the runner writes it; a step without `on:` hits every node.
 */
export function fencedNodes(entries: readonly HistoryEntry[], allNodes: readonly number[]): number[] {
  const fenced = new Set<number>();
  let split = false;
  for (const e of entries) {
    if (e.fault === 'heal-all' || (e.what === 'fault heal' && e.event === 'start')) split = false;
    if (e.event !== 'start' || typeof e.what !== 'string') continue;
    if (SPLITTING.has(e.what)) split = true;
    else if (split && FENCING.has(e.what)) {
      const on = e.node === undefined ? allNodes : Array.isArray(e.node) ? e.node : [e.node];
      on.forEach((n) => fenced.add(n));
    }
  }
  return [...fenced].sort((a, b) => a - b);
}

/** The group as node `node` sees it: corosync's members while cmirrord runs there, nobody otherwise. */
export function membershipView(node: number, t: number, out: string): Membership {
  const daemon = !/^NO-CMIRRORD$/m.test(out);
  return { node, t, members: daemon ? parseQuorumtool(out).members : [] };
}

async function pollMemberships(ctx: CaseContext, reported: Set<number>): Promise<void> {
  for (const id of ctx.down) {
    if (reported.has(id)) continue;
    reported.add(id);
    ctx.observed.memberships.push({ node: id, t: Date.now(), members: [] });
  }
  await Promise.all(
    liveNodes(ctx).map(async (n) => {
      const r = await n.exec('pidof cmirrord >/dev/null || echo NO-CMIRRORD; corosync-quorumtool -s', { timeoutMs: POLL_TIMEOUT_MS }).catch(() => undefined);
      // No answer (paused, or frozen by a check) is no observation: the last view stands.
      if (!r || (!r.stdout.includes('NO-CMIRRORD') && !r.stdout.includes('Membership information'))) return;
      reported.delete(n.id);
      ctx.observed.memberships.push(membershipView(n.id, Date.now(), r.stdout));
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

async function takeSample(ctx: CaseContext, mirror: number): Promise<void> {
  const m = ctx.mirrors[mirror]!;
  if (!m.log) return;
  const blockBytes = ctx.workloads.find((w) => w.workload.mirror === mirror)!.workload.blockSize;
  const sample = ctx.observed.samples.length + 1;
  const dir = join(ctx.dir, 'samples');
  mkdirSync(dir, { recursive: true });
  await inTurn(ctx, async () => {
    const nodes = liveNodes(ctx);
    const clocks = await Promise.all(nodes.map(async (n) => [n.id, Number((await n.execOrThrow('date +%s%N', { timeoutMs: POLL_TIMEOUT_MS })).stdout.trim())] as const));
    await frozenNow(ctx, async () => {
      const logFile = join(dir, `s${sample}-log.img`);
      writeFileSync(logFile, await readAt(diskFile(ctx, m.log!.serial), 0, cmirrordLogBytes(m.regions)));
      const legs = m.legs.map((l, i) => ({ label: `${m.name}/leg${i}`, src: diskFile(ctx, l.serial), file: join(dir, `s${sample}-leg${i}.img`) }));
      const outs = await Promise.all(legs.map(async (l) => { writeFileSync(l.file, ''); return open(l.file, 'r+'); }));
      try {
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
      ctx.observed.samples.push({ sample, mirror, freezeNs: Object.fromEntries(clocks), logFile, legFiles: legs.map((l) => ({ label: l.label, file: l.file })) });
    });
  });
  ctx.history.append('info', { what: 'dirty-before-write sample', sample, mirror: m.name });
}

/** Starts observing; the returned function stops and waits for the observation under way. */
export function startObserving(ctx: CaseContext): () => Promise<void> {
  const random = seededRandom(ctx.seed ^ 0x5a3c);
  const finished = new Set<object>();
  const reported = new Set<number>();
  let stopped = false;
  let wake: () => void = () => {};
  const loop = (async () => {
    while (!stopped) {
      await new Promise<void>((r) => {
        const timer = setTimeout(r, MIN_GAP_MS + random() * (MAX_GAP_MS - MIN_GAP_MS));
        wake = () => (clearTimeout(timer), r());
      });
      if (stopped) break;
      await pollMemberships(ctx, reported);
      const running = ctx.workloads.filter((w) => w.procs.some((p) => !finished.has(p)));
      for (const w of ctx.workloads) for (const p of w.procs) void p.done.then(() => finished.add(p));
      if (running.length === 0 || ctx.observed.samples.length >= MAX_SAMPLES || stopped) continue;
      try {
        await takeSample(ctx, running[0]!.workload.mirror);
      } catch (err) {
        ctx.history.append('error', { what: 'dirty-before-write sample', error: err instanceof Error ? err.message : String(err) });
      }
    }
  })();
  return async () => {
    stopped = true;
    wake();
    await loop;
  };
}

/**
 * Invariant 6 (writes): every block holds a write that no acknowledged write has superseded.
 *
 * Write w is superseded when another write to the same block was acknowledged and had been issued after w was
 * acknowledged (by the same node's clock, or beyond the allowed clock skew between guests for another node's). Whatever is left is allowed: the last acknowledged
 * write, anything concurrent with it, and writes still in flight (issued, never acknowledged) at the end.
 * A torn block is allowed only if every sector comes from an allowed write, since a multi-sector write that
 * was in flight at a crash may land partly. Run it on a read-through-mirror image, or on a leg only once its
 * regions are in sync: a dirty region may legitimately hold old data on the non-default leg.
 */
import { decodeBlock, describeBlock, describeId, type BlockId } from '../block-header.ts';
import { withImages, type ImageSource } from '../image.ts';
import type { WriteEvent, WriterEvent } from '../writer-log.ts';
import { safeCheck, verdictFrom, type Finding, type Verdict } from '../verdict.ts';

export const INVARIANT = 'no-lost-writes';

export interface NoLostWritesInput {
  /** Events from every writer's log; reads are ignored. */
  events: WriterEvent[];
  images: Array<{ source: ImageSource; label?: string }>;
  blockBytes: number;
  /** Only events of this run count; blocks from other runs are stale. Defaults to the events' only run id. */
  runId?: number;
  /** Adds "region R" to findings when given. */
  regionBytes?: number;
  /** How far apart two guests' clocks may be, in ns; orderings closer than this count as concurrent. */
  clockSkewNs?: number;
}

interface Write extends BlockId {
  start: number;
  /** Infinity while in flight. */
  end: number;
  acked: boolean;
}

const key = (node: number, seq: number) => `${node}/${seq}`;

function writesByBlock(events: WriterEvent[], runId: number): Map<number, Write[]> {
  const acked = new Map<string, WriteEvent>();
  const started = new Map<string, WriteEvent>();
  for (const e of events) {
    if (e.op === 'read' || e.run !== runId) continue;
    (e.op === 'write' ? acked : started).set(key(e.node, e.seq), e);
  }
  const byBlock = new Map<number, Write[]>();
  const add = (e: WriteEvent, start: number, end: number) => {
    const list = byBlock.get(e.block) ?? [];
    list.push({ node: e.node, seq: e.seq, offset: e.offset, runId: e.run, start, end, acked: end !== Infinity });
    byBlock.set(e.block, list);
  };
  for (const e of acked.values()) add(e, e.start ?? e.t, e.t);
  for (const [k, e] of started) if (!acked.has(k)) add(e, e.t, Infinity);
  return byBlock;
}

export async function noLostWrites(input: NoLostWritesInput): Promise<Verdict> {
  const runs = [...new Set(input.events.filter((e) => e.op !== 'read').map((e) => e.run))];
  if (input.runId === undefined && runs.length > 1) throw new Error(`writer logs mix runs ${runs.join(', ')}; say which one`);
  const runId = input.runId ?? runs[0];
  const skew = input.clockSkewNs ?? 0;
  const blocks = runId === undefined ? [] : [...writesByBlock(input.events, runId)].sort(([a], [b]) => a - b);
  const labels = input.images.map((im, i) => im.label ?? `image${i}`);
  const findings: Finding[] = [];
  await withImages(
    input.images.map((im, i) => ({ source: im.source, label: labels[i]! })),
    async (images) => {
      for (const [block, writes] of blocks) {
        const ackedWrites = writes.filter((w) => w.acked);
        // Two writes of one node are ordered by its own clock exactly; across nodes, only beyond the skew.
        const allowed = writes.filter((w) => !ackedWrites.some((w2) => w2 !== w && w2.start > w.end + (w2.node === w.node ? 0 : skew)));
        const isAllowed = (id: BlockId) =>
          allowed.some((w) => w.node === id.node && w.seq === id.seq && w.runId === id.runId && w.offset === id.offset);
        const latest = ackedWrites.reduce<Write | undefined>((a, w) => (a && a.end >= w.end ? a : w), undefined);
        const offset = writes[0]!.offset;
        if (offset !== block * input.blockBytes) {
          throw new Error(`writer log puts block ${block} at offset ${offset}, not ${block * input.blockBytes}`);
        }
        for (const image of images) {
          const found = decodeBlock(await image.read(offset, input.blockBytes), offset);
          let kind: string | undefined;
          if (found.kind === 'empty') kind = latest ? 'lost' : undefined;
          else if (found.kind === 'foreign') kind = 'corrupt';
          else if (found.kind === 'torn') {
            const ok = found.sectors!.every((s) => (s.from === 'zeros' ? !latest : s.from !== 'unknown' && isAllowed(s.from)));
            kind = ok ? undefined : 'torn';
          } else {
            const h = found.header!;
            if (!isAllowed(h)) {
              const logged = writes.some((w) => w.node === h.node && w.seq === h.seq && h.runId === runId);
              kind = logged || h.runId !== runId ? 'stale' : 'unlogged';
            }
          }
          if (!kind) continue;
          const expected = latest ? `${describeId(latest)} (acked)` : `one of ${allowed.map((w) => describeId(w)).join(', ')}`;
          const region = input.regionBytes ? Math.floor(offset / input.regionBytes) : undefined;
          const where = `${region !== undefined ? `region ${region} ` : ''}block ${block} (offset ${offset}) on ${image.label}`;
          findings.push({
            kind,
            ...(region !== undefined ? { region } : {}),
            block,
            offset,
            nodes: allowed.map((w) => describeId(w)),
            legs: [`${image.label} ${describeBlock(found, runId)}`],
            message: `${where}: ${kind}: expected ${expected}, found ${describeBlock(found, runId)}`,
          });
        }
      }
    },
  );
  const what = `${blocks.length} written blocks on ${labels.join(', ')}`;
  return verdictFrom(INVARIANT, findings, `${what}: each holds its last acknowledged write or a later one`, `in ${what}`, [
    { n: blocks.length, what: 'written blocks' },
    { n: input.images.length, what: 'legs' },
  ]);
}

export const checkNoLostWrites = (input: NoLostWritesInput) => safeCheck(INVARIANT, () => noLostWrites(input));

/**
 * Leg comparer: which regions of the mirror's legs are not byte-identical, at which blocks, and whose
 * writes each leg holds there. Reads one region of every leg at a time, so memory stays at legs x region size.
 */
import { decodeBlock, describeBlock, type DecodedBlock } from './block-header.ts';
import { ranges } from './disk-log.ts';
import { withImages, type Image, type ImageSource } from './image.ts';
import type { Finding } from './verdict.ts';

export interface LegInput {
  source: ImageSource;
  /** How findings name the leg; "leg0", "leg1", ... when absent. */
  label?: string;
}

export interface CompareOptions {
  regionBytes: number;
  blockBytes: number;
  /** Bytes of the mirror to compare; defaults to the shortest leg. Must be a whole number of blocks. */
  mirrorBytes?: number;
  /** Compare only the regions this accepts (e.g. the clean ones); all when absent. */
  only?: (region: number) => boolean;
}

export interface BlockDiff {
  /** Absolute block index on the mirror: offset / blockBytes. */
  block: number;
  offset: number;
  /** Decoded block per leg, in leg order. */
  legs: DecodedBlock[];
}

export interface RegionDiff {
  region: number;
  /** First and last byte of the region on the mirror (inclusive). */
  start: number;
  end: number;
  blocks: BlockDiff[];
}

export interface LegComparison {
  labels: string[];
  regions: number;
  compared: number[];
  diffs: RegionDiff[];
}

function checkGeometry(regionBytes: number, blockBytes: number, mirrorBytes: number): void {
  if (!Number.isInteger(blockBytes) || blockBytes <= 0) throw new RangeError(`block size must be positive, got ${blockBytes}`);
  if (!Number.isInteger(regionBytes) || regionBytes <= 0 || regionBytes % blockBytes !== 0) {
    throw new RangeError(`region size ${regionBytes} is not a whole number of ${blockBytes}-byte blocks`);
  }
  if (mirrorBytes % blockBytes !== 0) {
    throw new RangeError(`mirror size ${mirrorBytes} is not a whole number of ${blockBytes}-byte blocks`);
  }
}

/** The differing regions one at a time, for callers that stop early or stream a report. */
export async function* diffRegions(legs: Image[], opts: CompareOptions): AsyncGenerator<RegionDiff> {
  if (legs.length < 2) throw new RangeError(`need at least two legs to compare, got ${legs.length}`);
  const mirrorBytes = opts.mirrorBytes ?? Math.min(...legs.map((l) => l.length));
  checkGeometry(opts.regionBytes, opts.blockBytes, mirrorBytes);
  const { regionBytes, blockBytes } = opts;
  const regions = Math.ceil(mirrorBytes / regionBytes);
  for (let region = 0; region < regions; region++) {
    if (opts.only && !opts.only(region)) continue;
    const start = region * regionBytes;
    const length = Math.min(regionBytes, mirrorBytes - start);
    const data = await Promise.all(legs.map((l) => l.read(start, length)));
    if (data.every((d) => d.equals(data[0]!))) continue;
    const blocks: BlockDiff[] = [];
    for (let at = 0; at < length; at += blockBytes) {
      const slices = data.map((d) => d.subarray(at, at + blockBytes));
      if (slices.every((s) => s.equals(slices[0]!))) continue;
      const offset = start + at;
      blocks.push({ block: offset / blockBytes, offset, legs: slices.map((s) => decodeBlock(s, offset)) });
    }
    yield { region, start, end: start + length - 1, blocks };
  }
}

export async function compareLegs(inputs: LegInput[], opts: CompareOptions): Promise<LegComparison> {
  const labels = inputs.map((l, i) => l.label ?? `leg${i}`);
  return withImages(
    inputs.map((l, i) => ({ source: l.source, label: labels[i]! })),
    async (images) => {
      const mirrorBytes = opts.mirrorBytes ?? Math.min(...images.map((l) => l.length));
      const regions = Math.ceil(mirrorBytes / opts.regionBytes);
      const compared: number[] = [];
      for (let r = 0; r < regions; r++) if (!opts.only || opts.only(r)) compared.push(r);
      const diffs: RegionDiff[] = [];
      for await (const d of diffRegions(images, { ...opts, mirrorBytes })) diffs.push(d);
      return { labels, regions, compared, diffs };
    },
  );
}

export function describeBlockDiff(b: BlockDiff, labels: string[], runId?: number): string {
  const perLeg = b.legs.map((d, i) => `${labels[i] ?? `leg${i}`} ${describeBlock(d, runId)}`);
  return `block ${b.block} (offset ${b.offset}): ${perLeg.join(', ')}`;
}

/**
 * "region 17 (bytes 8912896-9437183): legs differ at block 2181 (offset 8933376): leg0 node2 seq 44, leg1 node3 seq 45";
 * with several blocks, the first `maxBlocks` are listed and the rest given as block ranges.
 */
export function describeRegionDiff(d: RegionDiff, labels: string[], runId?: number, maxBlocks = 3): string {
  const head = `region ${d.region} (bytes ${d.start}-${d.end}): legs differ at`;
  const shown = d.blocks.slice(0, maxBlocks).map((b) => describeBlockDiff(b, labels, runId));
  const rest = d.blocks.slice(maxBlocks).map((b) => b.block);
  const tail = rest.length ? `; and blocks ${ranges(rest)}` : '';
  const count = d.blocks.length > 1 ? ` ${d.blocks.length} blocks:` : '';
  return `${head}${count} ${shown.join('; ')}${tail}`;
}

/** One finding per differing region, located at its first differing block; `context` says why the region should match. */
export function legDiffFindings(cmp: LegComparison, context: string, runId?: number): Finding[] {
  return cmp.diffs.map((d) => {
    const first = d.blocks[0]!;
    return {
      kind: 'legs-differ',
      region: d.region,
      block: first.block,
      offset: first.offset,
      legs: first.legs.map((b, i) => `${cmp.labels[i]} ${describeBlock(b, runId)}`),
      nodes: [...new Set(first.legs.flatMap((b) => (b.kind === 'valid' ? [`node${b.header!.node} seq ${b.header!.seq}`] : [])))],
      message: `${context}${describeRegionDiff(d, cmp.labels, runId)}`,
    };
  });
}

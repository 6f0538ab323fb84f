/** Which regions each writer node aims at (pure), and the compact list form clogwrite.py takes. */
import type { RegionTarget } from '../../case/schema.ts';

/**
 * Regions per writer node. `own`: region r goes to the node at position r mod (writer nodes), so no
 * two nodes share a region; `shared`: regions 0..(writer nodes - 1) for everyone; `all`: every region.
 */
export function assignRegions(target: RegionTarget, writerNodes: readonly number[], regions: number): Map<number, number[]> {
  const out = new Map<number, number[]>();
  const every = Array.from({ length: regions }, (_, r) => r);
  writerNodes.forEach((node, pos) => {
    let mine: number[];
    switch (target.kind) {
      case 'own':
        mine = every.filter((r) => r % writerNodes.length === pos);
        break;
      case 'shared':
        mine = every.slice(0, Math.min(writerNodes.length, regions));
        break;
      case 'all':
        mine = every;
        break;
      case 'list':
        mine = [...target.regions];
        break;
    }
    if (mine.length === 0) throw new RangeError(`node ${node} gets no region: ${writerNodes.length} writer nodes, ${regions} regions`);
    out.set(node, mine);
  });
  return out;
}

/** Blocks of the given regions, for block-level reasoning in checks. */
export function regionBlocks(regions: readonly number[], regionBytes: number, blockBytes: number): number[] {
  const per = regionBytes / blockBytes;
  if (!Number.isInteger(per) || per < 1) throw new RangeError(`region size ${regionBytes} is not a whole number of ${blockBytes}-byte blocks`);
  return regions.flatMap((r) => Array.from({ length: per }, (_, i) => r * per + i));
}

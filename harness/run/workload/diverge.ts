/**
 * diverge-legs: before the mirror exists, stamped blocks written from the host straight into the shared
 * disk files, so that the legs differ the way an interrupted mirror's would: leg 0, which the initial resync
 * copies from, holds the host's newer write of each block (node 0), every other leg an older one. A writer
 * log records both as acknowledged at time zero, the older first, so that no-lost-writes and no-stale-reads
 * take leg 0's data as the last acknowledged write of each block until a workload writes it again. Every
 * write has a sequence number of its own, as a writer's do: block i's older write is 2i+1, its newer 2i+2.
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { mirrorBlockBytes, type Step } from '../../case/schema.ts';
import { encodeBlock } from '../../oracle/block-header.ts';
import { events } from '../../record/events.ts';
import { WRITES_DIR } from '../../record/layout.ts';
import { diskFile, type CaseContext } from '../context/case-context.ts';
import { regionBlocks } from './assign.ts';

/** The writer id the host's own writes carry: guests are nodes 1..8. */
export const HOST_NODE = 0;

export function divergeLegs(ctx: CaseContext, step: Extract<Step, { kind: 'diverge-legs' }>): void {
  const { regions, mirror } = step.diverge;
  const m = ctx.mirrors[mirror]!;
  // The checks' block size for this mirror, so that they find these writes in the blocks they read.
  const blockBytes = mirrorBlockBytes(ctx.case, mirror);
  const list = regions.kind === 'list' ? regions.regions : Array.from({ length: m.regions }, (_, r) => r);
  const mirrorBytes = m.sectors * 512;
  const blocks = regionBlocks(list, ctx.case.topology.regionSize, blockBytes).filter((b) => (b + 1) * blockBytes <= mirrorBytes);
  const seqOf = (block: number, newer: boolean) => 2 * block + (newer ? 2 : 1);
  m.legs.forEach((leg, i) => {
    const fd = openSync(diskFile(ctx, leg.serial), 'r+');
    try {
      for (const block of blocks) {
        const offset = block * blockBytes;
        writeSync(fd, encodeBlock({ node: HOST_NODE, seq: seqOf(block, i === 0), runId: ctx.runId, offset }, blockBytes), 0, blockBytes, offset);
      }
    } finally {
      closeSync(fd);
    }
  });
  const log = join(WRITES_DIR, `diverge-legs-m${mirror}.jsonl`);
  mkdirSync(join(ctx.dir, WRITES_DIR), { recursive: true });
  const lines: string[] = [];
  for (const block of blocks) {
    const id = { run: ctx.runId, node: HOST_NODE, block, offset: block * blockBytes };
    lines.push(
      JSON.stringify({ op: 'write-start', t: 1, ...id, seq: seqOf(block, false) }),
      JSON.stringify({ op: 'write', t: 2, start: 1, ...id, seq: seqOf(block, false) }),
      JSON.stringify({ op: 'write-start', t: 3, ...id, seq: seqOf(block, true) }),
      JSON.stringify({ op: 'write', t: 4, start: 3, ...id, seq: seqOf(block, true) }),
    );
  }
  writeFileSync(join(ctx.dir, log), `${lines.join('\n')}\n`);
  events.workloadStart(ctx.history, { workload: 'diverge-legs', mirror, node: HOST_NODE, proc: 'host', log, event: 'start' });
}

/**
 * The format of every block a clogtest workload writes. vm-images/guest/clogwrite.py is the guest-side twin
 * of encodeBlock; test/unit/oracle-block-header.test.ts proves the two produce the same bytes.
 *
 * A block is `size` bytes (a multiple of 512), all integers little-endian.
 *
 * Header, bytes 0..63:
 *   off len  field
 *     0   8  magic, ASCII "CLOGBLK1"
 *     8   2  u16 node       writer's node id
 *    10   2  u16 reserved   0
 *    12   4  u32 runId      run id (or seed), so a block left by an earlier run is told apart
 *    16   8  u64 seq        writer's sequence number, unique per (runId, node)
 *    24   8  u64 offset     absolute byte offset the block was written to, so a misplaced block is caught
 *    32   4  u32 size       block size in bytes
 *    36   4  u32 payloadCrc CRC-32 (zlib/IEEE) of bytes 64..size-1
 *    40  20  reserved       0
 *    60   4  u32 headerCrc  CRC-32 of bytes 0..59
 *
 * Payload, bytes 64..size-1: 32-byte sector stamps repeated to the end of every 512-byte sector
 * (14 in sector 0 after the header, 16 in each later sector):
 *     0   8  ASCII "clogsect"
 *     8   8  u64 seq
 *    16   8  u64 offset
 *    24   4  u32 runId
 *    28   2  u16 node
 *    30   2  u16 sector index within the block
 * The payload is a pure function of (node, seq, offset, runId, size). Disks tear writes at sector boundaries,
 * and every sector names the write it came from, so a torn block says whose halves it holds.
 */
import { crc32 } from 'node:zlib';

export const BLOCK_MAGIC = 'CLOGBLK1';
export const STAMP_TAG = 'clogsect';
export const HEADER_BYTES = 64;
export const STAMP_BYTES = 32;
export const SECTOR_BYTES = 512;

export interface BlockId {
  node: number;
  seq: number;
  /** Absolute byte offset on the device. */
  offset: number;
  runId: number;
}

export interface BlockHeader extends BlockId {
  size: number;
  payloadCrc: number;
  headerCrc: number;
}

/** Where one run of sectors of a torn block came from. */
export interface SectorRun {
  first: number;
  last: number;
  from: BlockId | 'zeros' | 'unknown';
}

export type BlockKind = 'empty' | 'valid' | 'torn' | 'foreign';

export interface DecodedBlock {
  kind: BlockKind;
  /** Present for 'valid', and for 'torn' when the header itself is intact. */
  header?: BlockHeader;
  /** Why the block is not 'valid' or 'empty', in one line. */
  why?: string;
  /** For 'torn': which write each run of sectors belongs to. */
  sectors?: SectorRun[];
}

export function checkBlockSize(size: number): void {
  if (!Number.isInteger(size) || size < SECTOR_BYTES || size % SECTOR_BYTES !== 0 || size > 1 << 30) {
    throw new RangeError(`block size must be a multiple of ${SECTOR_BYTES} bytes, got ${size}`);
  }
}

function stamp(id: BlockId, sector: number): Buffer {
  const s = Buffer.alloc(STAMP_BYTES);
  s.write(STAMP_TAG, 0, 'latin1');
  s.writeBigUInt64LE(BigInt(id.seq), 8);
  s.writeBigUInt64LE(BigInt(id.offset), 16);
  s.writeUInt32LE(id.runId, 24);
  s.writeUInt16LE(id.node, 28);
  s.writeUInt16LE(sector, 30);
  return s;
}

function fillSector(block: Buffer, id: BlockId, sector: number): void {
  const s = stamp(id, sector);
  const start = sector * SECTOR_BYTES;
  for (let p = sector === 0 ? HEADER_BYTES : start; p < start + SECTOR_BYTES; p += STAMP_BYTES) s.copy(block, p);
}

export function encodeBlock(id: BlockId, size: number): Buffer {
  checkBlockSize(size);
  const block = Buffer.alloc(size);
  for (let sector = 0; sector < size / SECTOR_BYTES; sector++) fillSector(block, id, sector);
  block.write(BLOCK_MAGIC, 0, 'latin1');
  block.writeUInt16LE(id.node, 8);
  block.writeUInt32LE(id.runId, 12);
  block.writeBigUInt64LE(BigInt(id.seq), 16);
  block.writeBigUInt64LE(BigInt(id.offset), 24);
  block.writeUInt32LE(size, 32);
  block.writeUInt32LE(crc32(block.subarray(HEADER_BYTES)), 36);
  block.writeUInt32LE(crc32(block.subarray(0, 60)), 60);
  return block;
}

/** "node2 seq 44", plus the run id when it is not the one expected. */
export function describeId(id: BlockId, runId?: number): string {
  return `node${id.node} seq ${id.seq}${runId !== undefined && id.runId !== runId ? ` (run ${id.runId})` : ''}`;
}

function readHeader(buf: Buffer): BlockHeader {
  return {
    node: buf.readUInt16LE(8),
    runId: buf.readUInt32LE(12),
    seq: Number(buf.readBigUInt64LE(16)),
    offset: Number(buf.readBigUInt64LE(24)),
    size: buf.readUInt32LE(32),
    payloadCrc: buf.readUInt32LE(36),
    headerCrc: buf.readUInt32LE(60),
  };
}

/** Which write one sector holds: only a sector identical to what that write would have put there counts. */
function sectorOrigin(buf: Buffer, sector: number): SectorRun['from'] {
  const start = sector * SECTOR_BYTES;
  const bytes = buf.subarray(start, start + SECTOR_BYTES);
  if (bytes.every((b) => b === 0)) return 'zeros';
  const first = sector === 0 ? HEADER_BYTES : start;
  if (buf.toString('latin1', first, first + 8) !== STAMP_TAG || buf.readUInt16LE(first + 30) !== sector) return 'unknown';
  const id: BlockId = {
    seq: Number(buf.readBigUInt64LE(first + 8)),
    offset: Number(buf.readBigUInt64LE(first + 16)),
    runId: buf.readUInt32LE(first + 24),
    node: buf.readUInt16LE(first + 28),
  };
  const s = stamp(id, sector);
  for (let p = first; p < start + SECTOR_BYTES; p += STAMP_BYTES) {
    if (!s.equals(buf.subarray(p, p + STAMP_BYTES))) return 'unknown';
  }
  return id;
}

function sameOrigin(a: SectorRun['from'], b: SectorRun['from']): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.node === b.node && a.seq === b.seq && a.offset === b.offset && a.runId === b.runId;
}

export function sectorRuns(buf: Buffer): SectorRun[] {
  const runs: SectorRun[] = [];
  for (let sector = 0; sector < buf.length / SECTOR_BYTES; sector++) {
    const from = sectorOrigin(buf, sector);
    const last = runs[runs.length - 1];
    if (last && sameOrigin(last.from, from)) last.last = sector;
    else runs.push({ first: sector, last: sector, from });
  }
  return runs;
}

export function describeSectorRuns(runs: SectorRun[]): string {
  return runs
    .map((r) => {
      const where = r.first === r.last ? `sector ${r.first}` : `sectors ${r.first}-${r.last}`;
      const what = typeof r.from === 'string' ? r.from : describeId(r.from);
      return `${where}: ${what}`;
    })
    .join('; ');
}

/**
 * Classifies a block read from absolute byte `offset`:
 * 'empty' all zeros (never written); 'valid' one whole write, at the place it was meant for;
 * 'torn' pieces of clogtest writes that do not make one whole write here (mixed sectors, bad checksum,
 * or written for another offset); 'foreign' no clogtest data at all.
 */
export function decodeBlock(buf: Buffer, offset: number): DecodedBlock {
  checkBlockSize(buf.length);
  if (buf.every((b) => b === 0)) return { kind: 'empty' };
  const torn = (why: string, header?: BlockHeader): DecodedBlock => {
    const sectors = sectorRuns(buf);
    return { kind: 'torn', why: `${why}; ${describeSectorRuns(sectors)}`, sectors, ...(header ? { header } : {}) };
  };
  if (buf.toString('latin1', 0, 8) !== BLOCK_MAGIC) {
    const runs = sectorRuns(buf);
    if (runs.some((r) => typeof r.from !== 'string')) return torn('no block header in sector 0');
    return { kind: 'foreign', why: `no "${BLOCK_MAGIC}" magic, first bytes ${buf.subarray(0, 8).toString('hex')}` };
  }
  const header = readHeader(buf);
  if (crc32(buf.subarray(0, 60)) !== header.headerCrc) return torn('header checksum mismatch');
  if (header.size !== buf.length) return torn(`header says block size ${header.size}, read ${buf.length}`, header);
  if (header.offset !== offset) {
    return torn(`${describeId(header)} was written for offset ${header.offset}, found at offset ${offset}`, header);
  }
  if (crc32(buf.subarray(HEADER_BYTES)) !== header.payloadCrc) {
    return torn(`header says ${describeId(header)} but the payload checksum does not match`, header);
  }
  return { kind: 'valid', header };
}

/** One line for a decoded block: "node2 seq 44", "empty", "torn (...)", "foreign (...)". */
export function describeBlock(d: DecodedBlock, runId?: number): string {
  if (d.kind === 'valid') return describeId(d.header!, runId);
  if (d.kind === 'empty') return 'empty';
  return `${d.kind} (${d.why})`;
}

/**
 * Decoder for the mirror log device that cmirrord keeps (log type clustered-disk).
 *
 * Layout, as verified against the sources (K = linux-source-6.1, L = lvm2 2.03.16 from `apt-get source lvm2`):
 *   - K drivers/md/dm-log.c `struct log_header_disk`: __le32 magic, __le32 version, __le64 nr_regions, __packed
 *     (16 bytes at byte 0); MIRROR_MAGIC 0x4D695272 ("MiRr"), MIRROR_DISK_VERSION 2.
 *     L daemons/cmirrord/functions.c `struct log_header` has the same fields but `header_to_disk` is a memcpy of the
 *     native struct, so the header is little-endian only because the guests are x86.
 *   - Bitmap offset is in bytes, 1024: K `LOG_OFFSET 2` is in sectors (`clean_bits = disk_header + (LOG_OFFSET <<
 *     SECTOR_SHIFT)` in create_log_context); L `write_log`/`read_log` memcpy to/from `disk_buffer + 1024` directly.
 *   - Bit order: K `log_test_bit` uses test_bit_le (ext2 little-endian bit ops); L `dm_bit` (libdm/libdevmapper.h)
 *     is bit i%32 of host u32 word i/32, which on little-endian is byte i/8, bit i%8. Same bytes either way.
 *   - The bit is the clean bitmap (K disk_resume / L clog_resume copy clean_bits to sync_bits): 1 = clean/in sync.
 *   - L `write_log` copies ceil(nr_regions/8) bytes of bitmap; `clog_resume` clears bits nr_regions..(next multiple
 *     of 32) first, so the tail of the last byte is 0. Bytes after that are never written by cmirrord: `read_log`
 *     reads the whole disk_buffer and `write_log` writes it back unchanged, so they keep whatever the device held.
 *   - L `clog_ctr`: disk_size = (ceil(region_count / page_size) + 1) pages, read and written whole with O_DIRECT;
 *     a shorter device fails the read. region_count = ceil(mirror sectors / region sectors).
 *   - L `read_log` checks only the magic (not the version); K `read_header` rejects versions other than 2
 *     (turning 1 into 2 on little-endian). cmirrord always writes 2, so 2 is the only version accepted here.
 */

import type { Finding } from './verdict.ts';

export const LOG_MAGIC = 0x4d695272;
export const LOG_VERSION = 2;
export const HEADER_BYTES = 16;
export const BITMAP_OFFSET = 1024;
const PAGE_BYTES = 4096;

export interface DiskLog {
  magic: number;
  version: number;
  regions: number;
  /** true = clean/in sync on disk (bit 1), false = dirty or out of sync (bit 0). */
  clean(region: number): boolean;
  dirtyRegions: number[];
  cleanCount: number;
}

export interface DecodeOptions {
  /** Region count the mirror's table implies; a header that disagrees is an error. */
  expectedRegions?: number;
}

export class DiskLogError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'DiskLogError';
  }
}

/** region_count exactly as cmirrord computes it from the table (clog_ctr). */
export function regionCount(mirrorBytes: number, regionBytes: number): number {
  return Math.ceil(mirrorBytes / regionBytes);
}

/** Bytes cmirrord reads and writes at the start of the log device; the device must be at least this long. */
export function cmirrordLogBytes(regions: number, pageBytes = PAGE_BYTES): number {
  return (Math.ceil(regions / pageBytes) + 1) * pageBytes;
}

const hex = (n: number | bigint) => `0x${n.toString(16).toUpperCase().padStart(8, '0')}`;

/** Every problem with the log, so one look at a broken device says all that is wrong with it. */
export function inspectDiskLog(buf: Uint8Array, opts: DecodeOptions = {}): { log: DiskLog | null; problems: string[] } {
  const problems: string[] = [];
  if (buf.length < HEADER_BYTES) {
    return { log: null, problems: [`log is ${buf.length} bytes, shorter than the ${HEADER_BYTES}-byte header`] };
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, true);
  const version = view.getUint32(4, true);
  const nr = view.getBigUint64(8, true);
  if (magic !== LOG_MAGIC) {
    const swapped = view.getUint32(0, false) === LOG_MAGIC ? ' (byte-swapped: written big-endian?)' : '';
    const zero = buf.subarray(0, HEADER_BYTES).every((b) => b === 0) ? ' (header is all zeros: never written?)' : '';
    problems.push(`bad magic ${hex(magic)}, expected ${hex(LOG_MAGIC)}${swapped}${zero}`);
    return { log: null, problems };
  }
  if (version !== LOG_VERSION) problems.push(`unsupported version ${version}, expected ${LOG_VERSION}`);
  const maxRegions = BigInt((buf.length - BITMAP_OFFSET) * 8);
  if (nr > maxRegions || nr > BigInt(Number.MAX_SAFE_INTEGER)) {
    const need = (nr + 7n) / 8n + BigInt(BITMAP_OFFSET);
    problems.push(`bitmap for ${nr} regions needs ${need} bytes, longer than the ${buf.length}-byte log device`);
    return { log: null, problems };
  }
  const regions = Number(nr);
  if (opts.expectedRegions !== undefined && regions !== opts.expectedRegions) {
    problems.push(`header says ${regions} regions, the mirror's table implies ${opts.expectedRegions}`);
  }
  const bit = (i: number) => (buf[BITMAP_OFFSET + (i >> 3)]! >> (i & 7)) & 1;
  const areaEnd = Math.min(buf.length, cmirrordLogBytes(regions));
  const stray: number[] = [];
  for (let byte = BITMAP_OFFSET + (regions >> 3); byte < areaEnd; byte++) {
    if (buf[byte] === 0) continue;
    for (let b = 0; b < 8; b++) {
      const i = (byte - BITMAP_OFFSET) * 8 + b;
      if (i >= regions && bit(i)) stray.push(i);
    }
  }
  if (stray.length) {
    const first = stray[0]!;
    const where = `byte ${BITMAP_OFFSET + (first >> 3)}, mask 0x${(1 << (first & 7)).toString(16).padStart(2, '0')}`;
    const listed = `${ranges(stray.slice(0, 20))}${stray.length > 20 ? ',...' : ''}`;
    const more = stray.length > 1 ? ` and ${stray.length - 1} more (${listed})` : '';
    problems.push(`non-zero bit past the last region (${regions} regions): bit ${first} (${where})${more}`);
  }
  const dirtyRegions: number[] = [];
  for (let i = 0; i < regions; i++) if (!bit(i)) dirtyRegions.push(i);
  const log: DiskLog = {
    magic,
    version,
    regions,
    clean(region) {
      if (!Number.isInteger(region) || region < 0 || region >= regions) {
        throw new RangeError(`region ${region} is outside the log's ${regions} regions`);
      }
      return bit(region) === 1;
    },
    dirtyRegions,
    cleanCount: regions - dirtyRegions.length,
  };
  return { log, problems };
}

/** The decoded log, or a DiskLogError naming every problem found. */
export function decodeDiskLog(buf: Uint8Array, opts: DecodeOptions = {}): DiskLog {
  const { log, problems } = inspectDiskLog(buf, opts);
  if (problems.length || !log) throw new DiskLogError(problems);
  return log;
}

/** Sorted integers as "0-3,7,9-12" (also the list form clogwrite.py takes); "" for none. Unsorted or repeated input is sorted and deduplicated first. */
export function ranges(numbers: readonly number[]): string {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * The decoded log, or a finding saying why it does not decode: a log device that is not what cmirrord
 * writes (bad magic, another region count, bits past the last region) is the stack misbehaving, not a
 * check that cannot run.
 */
export function decodeOrFinding(buf: Uint8Array, expectedRegions: number | undefined, where?: string): { log: DiskLog } | { finding: Finding } {
  const { log, problems } = inspectDiskLog(buf, { expectedRegions });
  if (log && problems.length === 0) return { log };
  return { finding: { kind: 'log-undecodable', message: `${where ? `${where}: ` : ''}the log device does not decode: ${problems.join('; ')}` } };
}

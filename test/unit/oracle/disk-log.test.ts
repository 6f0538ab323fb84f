import t from 'tap';
import {
  DiskLogError,
  cmirrordLogBytes,
  decodeDiskLog,
  inspectDiskLog,
  ranges,
  regionCount,
} from '../../../harness/oracle/disk-log.ts';
import { makeLog } from '../../fixtures/oracle/build.ts';

t.test('decodes header, clean bits and dirty regions', async (t) => {
  const dirty = new Set([0, 1, 2, 3, 16, 99]);
  const log = decodeDiskLog(makeLog(100, (i) => !dirty.has(i)), { expectedRegions: 100 });
  t.equal(log.magic, 0x4d695272);
  t.equal(log.version, 2);
  t.equal(log.regions, 100);
  t.same(log.dirtyRegions, [0, 1, 2, 3, 16, 99]);
  t.equal(log.cleanCount, 94);
  t.equal(log.clean(4), true);
  t.equal(log.clean(16), false);
  t.throws(() => log.clean(100), /outside the log's 100 regions/);
});

t.test('bit i is byte 1024 + i/8, bit i%8 (little-endian bit order)', async (t) => {
  const buf = makeLog(16, () => false);
  buf[1024 + 1] = 0b0000_0100; // region 10 only
  const log = decodeDiskLog(buf);
  t.equal(log.cleanCount, 1);
  t.equal(log.clean(10), true);
  t.equal(log.clean(2), false, 'not the big-endian bit of the same byte');
});

t.test('bad magic names the value found, in hex', async (t) => {
  const buf = makeLog(8, () => true, { magic: 0xdeadbeef });
  t.throws(() => decodeDiskLog(buf), { message: 'bad magic 0xDEADBEEF, expected 0x4D695272' });
  t.match(inspectDiskLog(Buffer.alloc(4096)).problems[0], /bad magic 0x00000000.*all zeros/);
  const swapped = makeLog(8, () => true);
  swapped.writeUInt32BE(0x4d695272, 0);
  t.match(inspectDiskLog(swapped).problems[0], /byte-swapped/);
});

t.test('unsupported version', async (t) => {
  t.throws(() => decodeDiskLog(makeLog(8, () => true, { version: 3 })), /unsupported version 3, expected 2/);
});

t.test('region count must match the topology', async (t) => {
  const buf = makeLog(128, () => true);
  t.throws(() => decodeDiskLog(buf, { expectedRegions: 256 }), /header says 128 regions, the mirror's table implies 256/);
  t.equal(decodeDiskLog(buf, { expectedRegions: 128 }).regions, 128);
  t.equal(regionCount(64 << 20, 512 << 10), 128);
  t.equal(regionCount((64 << 20) + 1, 512 << 10), 129, 'a partial last region counts, as in cmirrord clog_ctr');
});

t.test('a bitmap longer than the device', async (t) => {
  const buf = makeLog(8, () => true, { headerRegions: 1_000_000, bytes: 4096 });
  t.throws(() => decodeDiskLog(buf), /bitmap for 1000000 regions needs 126024 bytes, longer than the 4096-byte log device/);
  t.match(inspectDiskLog(Buffer.alloc(10)).problems[0], /shorter than the 16-byte header/);
});

t.test('stray bits past the last region are named by index', async (t) => {
  const buf = makeLog(20, () => true);
  t.equal(decodeDiskLog(buf).cleanCount, 20, 'no stray bits in a clean fixture');
  buf[1024 + 2]! |= 1 << 6; // bit 22
  const err = t.throws(() => decodeDiskLog(buf)) as DiskLogError;
  t.match(err.message, /non-zero bit past the last region \(20 regions\): bit 22 \(byte 1026, mask 0x40\)/);
  buf[1024 + 3000] = 1; // far out, still inside the area cmirrord reads and writes back
  t.match(inspectDiskLog(buf).problems[0], /bit 22 .* and 1 more \(22,24000\)/);
});

t.test('problems are all reported together', async (t) => {
  const buf = makeLog(20, () => true, { version: 1 });
  buf[1024 + 2]! |= 0x10;
  t.equal(inspectDiskLog(buf, { expectedRegions: 21 }).problems.length, 3);
});

t.test('cmirrord log size', async (t) => {
  t.equal(cmirrordLogBytes(128), 8192);
  t.equal(cmirrordLogBytes(4096), 8192);
  t.equal(cmirrordLogBytes(4097), 12288);
});

t.test('ranges', async (t) => {
  t.equal(ranges([0, 1, 2, 3, 7, 9, 10, 11, 12]), '0-3,7,9-12');
  t.equal(ranges([]), '');
  t.equal(ranges([5]), '5');
  t.equal(ranges([3, 1, 2, 2]), '1-3');
});

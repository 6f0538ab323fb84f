import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { decodeBlock, describeBlock, encodeBlock } from '../../../harness/oracle/block-header.ts';
import { parseWriterLog, type WriteEvent } from '../../../harness/oracle/writer-log.ts';
import { run } from '../../../harness/base/proc.ts';
import { tempDir } from '../../temp-dir.ts';

const B = 4096;
const id = { node: 2, seq: 44, offset: 8933376, runId: 7 };

t.test('header fields sit at the documented byte offsets', async (t) => {
  const b = encodeBlock(id, B);
  t.equal(b.toString('latin1', 0, 8), 'CLOGBLK1');
  t.equal(b.readUInt16LE(8), 2);
  t.equal(b.readUInt16LE(10), 0);
  t.equal(b.readUInt32LE(12), 7);
  t.equal(b.readBigUInt64LE(16), 44n);
  t.equal(b.readBigUInt64LE(24), 8933376n);
  t.equal(b.readUInt32LE(32), B);
  t.equal(b.readUInt32LE(36), crc32(b.subarray(64)));
  t.ok(b.subarray(40, 60).every((x) => x === 0));
  t.equal(b.readUInt32LE(60), crc32(b.subarray(0, 60)));
  t.equal(b.toString('latin1', 64, 72), 'clogsect', 'first stamp right after the header');
  t.equal(b.readUInt16LE(512 * 3 + 30), 3, 'each sector stamp carries its sector index');
});

t.test('a block decodes as valid only at its own offset', async (t) => {
  const b = encodeBlock(id, B);
  const d = decodeBlock(b, id.offset);
  t.equal(d.kind, 'valid');
  t.match(d.header, { node: 2, seq: 44, offset: 8933376, runId: 7, size: B });
  t.equal(describeBlock(d), 'node2 seq 44');
  t.equal(describeBlock(d, 8), 'node2 seq 44 (run 7)');
  const moved = decodeBlock(b, id.offset + B);
  t.equal(moved.kind, 'torn');
  t.match(moved.why, /node2 seq 44 was written for offset 8933376, found at offset 8937472/);
});

t.test('empty and foreign blocks', async (t) => {
  t.same(decodeBlock(Buffer.alloc(B), 0), { kind: 'empty' });
  const junk = Buffer.alloc(B, 0xab);
  const d = decodeBlock(junk, 0);
  t.equal(d.kind, 'foreign');
  t.match(d.why, /no "CLOGBLK1" magic, first bytes abababababababab/);
});

t.test('a torn block names whose sectors it holds', async (t) => {
  const a = encodeBlock({ ...id, node: 2, seq: 44 }, B);
  const b = encodeBlock({ ...id, node: 3, seq: 45 }, B);
  const torn = Buffer.concat([a.subarray(0, 2048), b.subarray(2048)]);
  const d = decodeBlock(torn, id.offset);
  t.equal(d.kind, 'torn');
  t.equal(d.header?.seq, 44);
  t.match(d.why, /payload checksum does not match; sectors 0-3: node2 seq 44; sectors 4-7: node3 seq 45/);
  const headless = Buffer.concat([Buffer.alloc(512), b.subarray(512)]);
  const h = decodeBlock(headless, id.offset);
  t.equal(h.kind, 'torn', 'a missing header sector is still a torn write, not foreign data');
  t.match(h.why, /no block header in sector 0; sector 0: zeros; sectors 1-7: node3 seq 45/);
  const flipped = Buffer.from(a);
  flipped[100]! ^= 1;
  t.match(decodeBlock(flipped, id.offset).why, /sector 0: unknown; sectors 1-7: node2 seq 44/);
  const badHeader = Buffer.from(a);
  badHeader[20]! ^= 1;
  t.match(decodeBlock(badHeader, id.offset), { kind: 'torn', why: /^header checksum mismatch/ });
});

t.test('block size must be whole sectors', async (t) => {
  t.throws(() => encodeBlock(id, 1000), /multiple of 512/);
  t.throws(() => decodeBlock(Buffer.alloc(100), 0), /multiple of 512/);
});

t.test('clogwrite.py writes exactly what encodeBlock does, and reads it back', async (t) => {
  const dir = tempDir(t, 'clogwrite-');
  const dev = join(dir, 'dev.img');
  const log = join(dir, 'writes.jsonl');
  const size = 2048;
  await writeFile(dev, Buffer.alloc(16 * size));
  const py = ['vm-images/guest/clogwrite.py', '--dev', dev, '--node', '3', '--run-id', '4242', '--block-size', `${size}`];
  await run('python3', [...py, '--blocks', '1-2,5', '--count', '4', '--seq-start', '10', '--log', log, '--no-direct'], {
    timeoutMs: 30_000,
  });
  const img = await readFile(dev);
  const expected = [
    { block: 1, seq: 10 },
    { block: 2, seq: 11 },
    { block: 5, seq: 12 },
    { block: 1, seq: 13 },
  ];
  for (const { block, seq } of expected.slice(1)) {
    const offset = block * size;
    t.ok(img.subarray(offset, offset + size).equals(encodeBlock({ node: 3, seq, offset, runId: 4242 }, size)), `block ${block} seq ${seq} identical`);
  }
  t.equal(decodeBlock(img.subarray(0, size), 0).kind, 'empty', 'unlisted blocks untouched');
  const events = parseWriterLog(await readFile(log, 'utf8'), log);
  const acks = events.filter((e): e is WriteEvent => e.op === 'write');
  t.same(
    acks.map((e) => [e.block, e.seq, e.offset, e.node, e.run]),
    expected.map((e) => [e.block, e.seq, e.block * size, 3, 4242]),
  );
  t.equal(events.filter((e) => e.op === 'write-start').length, 4, 'every write logged before it is issued');
  t.ok(acks.every((e) => e.t >= e.start!), 'ack time after issue time');

  const sliced = join(dir, 'slot.jsonl');
  await run('python3', [...py, '--blocks', '0-11', '--slot', '1/3', '--random', '--count', '40', '--log', sliced, '--no-direct'], { timeoutMs: 30_000 });
  const slotBlocks = new Set(parseWriterLog(await readFile(sliced, 'utf8'), sliced).map((e) => e.block));
  t.same([...slotBlocks].sort((a, b) => a - b), [1, 4, 7, 10], 'a writer with --slot 1/3 touches only its own blocks');
  const bad = await run('python3', [...py, '--blocks', '0-3', '--slot', '3/3', '--log', '-', '--no-direct'], { timeoutMs: 30_000, allowFailure: true });
  t.match(bad.stderr, /--slot K\/S needs 0 <= K < S/);
  const pastEnd = join(dir, 'past-end.jsonl');
  await run('python3', [...py, '--blocks', '12-19', '--random', '--count', '30', '--log', pastEnd, '--no-direct'], { timeoutMs: 30_000 });
  const inside = new Set(parseWriterLog(await readFile(pastEnd, 'utf8'), pastEnd).map((e) => e.block));
  t.same([...inside].sort((a, b) => a - b), [12, 13, 14, 15], 'blocks past the end of the device are never drawn');
  const none = await run('python3', [...py, '--blocks', '16-19', '--log', '-', '--no-direct'], { timeoutMs: 30_000, allowFailure: true });
  t.match(none.stderr, /no blocks to operate on/);

  const deep = join(dir, 'deep.jsonl');
  await run('python3', [...py, '--blocks', '0-11', '--slot', '0/2', '--depth', '3', '--random', '--count', '30', '--seq-start', '100', '--log', deep, '--no-direct'], { timeoutMs: 30_000 });
  const deepAcks = parseWriterLog(await readFile(deep, 'utf8'), deep).filter((e): e is WriteEvent => e.op === 'write');
  t.same(deepAcks.map((e) => e.seq).sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => 100 + i), '--depth 3: 30 writes, each sequence number once');
  const laneBlocks = [[0, 6], [2, 8], [4, 10]];
  t.ok(deepAcks.every((e) => laneBlocks[(e.seq - 100) % 3]!.includes(e.block)), 'lane j writes sequence numbers j, j+3, ... to blocks of its own');
  const shallow = await run('python3', [...py, '--blocks', '0-3', '--depth', '8', '--log', '-', '--no-direct'], { timeoutMs: 30_000, allowFailure: true });
  t.match(shallow.stderr, /--depth 8 needs as many blocks, got 4/);

  const torn = Buffer.concat([encodeBlock({ node: 1, seq: 1, offset: 6 * size, runId: 4242 }, size).subarray(0, 1024), Buffer.alloc(1024, 1)]);
  torn.copy(img, 6 * size);
  await writeFile(dev, img);
  const reads = await run('python3', [...py, '--read', '--blocks', '0-1,6', '--log', '-', '--no-direct'], { timeoutMs: 30_000 });
  const seen = parseWriterLog(reads.stdout, 'stdout');
  t.match(seen, [
    { op: 'read', block: 0, kind: 'empty', found: null },
    { op: 'read', block: 1, kind: 'valid', found: { node: 3, seq: 13, run: 4242 } },
    { op: 'read', block: 6, kind: 'torn', why: 'payload checksum mismatch' },
  ]);
});

import t from 'tap';
import { encodeBlock } from '../../../harness/oracle/block-header.ts';
import { checkCleanImpliesEqual } from '../../../harness/oracle/checks/clean-implies-equal.ts';
import { checkNoLostWrites } from '../../../harness/oracle/checks/no-lost-writes.ts';
import { safeCheck } from '../../../harness/oracle/verdict.ts';
import type { WriterEvent } from '../../../harness/oracle/writer-log.ts';
import { makeImage, makeLog } from '../../fixtures/oracle/build.ts';

const B = 4096;
const REGION = 4 * B;
const RUN = 7;

t.test('clean-implies-equal', async (t) => {
  // 4 regions of 4 blocks; block 9 (region 2) differs between the legs.
  const leg0 = makeImage(16, B, [{ block: 9, node: 2, seq: 44, runId: RUN }]);
  const leg1 = makeImage(16, B, [{ block: 9, node: 3, seq: 45, runId: RUN }]);
  const legs = [{ source: leg0 }, { source: leg1 }];
  const input = { legs, regionBytes: REGION, blockBytes: B, mirrorBytes: 16 * B, runId: RUN };

  t.test('fails on a clean region whose legs differ, naming region, block and offset', async (t) => {
    const v = await checkCleanImpliesEqual({ ...input, log: makeLog(4, () => true) });
    t.equal(v.valid, false);
    t.equal(v.invariant, 'clean-implies-equal');
    t.match(v.findings, [{ kind: 'legs-differ', region: 2, block: 9, offset: 36864, nodes: ['node2 seq 44', 'node3 seq 45'] }]);
    t.match(
      v.detail,
      'clean region 2 (bytes 32768-49151): legs differ at block 9 (offset 36864): leg0 node2 seq 44, leg1 node3 seq 45',
    );
  });

  t.test('passes when the differing region is dirty', async (t) => {
    const v = await checkCleanImpliesEqual({ ...input, log: makeLog(4, (r) => r !== 2) });
    t.equal(v.valid, true, v.detail);
    t.match(v.detail, /4 regions: 3 clean and identical on leg0, leg1; 1 dirty, not compared/);
  });

  t.test('passes on identical legs', async (t) => {
    const v = await checkCleanImpliesEqual({ ...input, legs: [{ source: leg0 }, { source: Buffer.from(leg0) }], log: makeLog(4, () => true) });
    t.equal(v.valid, true);
  });

  t.test('a log device that does not decode is a finding: cmirrord wrote something it should not have', async (t) => {
    const bad = await checkCleanImpliesEqual({ ...input, log: makeLog(4, () => true, { magic: 0x12345678 }) });
    t.equal(bad.valid, false);
    t.match(bad.findings, [{ kind: 'log-undecodable', message: /bad magic 0x12345678/ }]);
    t.same(bad.judged[0], { n: 0, what: 'clean regions compared' });
    const mismatch = await checkCleanImpliesEqual({ ...input, log: makeLog(8, () => true) });
    t.equal(mismatch.valid, false);
    t.match(mismatch.findings, [{ kind: 'log-undecodable', message: /header says 8 regions, the mirror's table implies 4/ }]);
  });
});

/** One acknowledged write of `block` by `node`, issued at `start` and acked at `end`. */
function ack(node: number, seq: number, block: number, start: number, end: number, run = RUN): WriterEvent[] {
  const id = { run, node, seq, block, offset: block * B };
  return [
    { op: 'write-start', t: start, ...id },
    { op: 'write', t: end, start, ...id },
  ];
}
const inFlight = (node: number, seq: number, block: number, start: number): WriterEvent => ({
  op: 'write-start',
  t: start,
  run: RUN,
  node,
  seq,
  block,
  offset: block * B,
});

t.test('no-lost-writes', async (t) => {
  const check = (events: WriterEvent[], image: Buffer, extra = {}) =>
    checkNoLostWrites({ events, images: [{ source: image, label: 'mirror' }], blockBytes: B, regionBytes: REGION, ...extra });
  const img = (...writes: Array<[node: number, seq: number, block: number, run?: number]>) =>
    makeImage(8, B, writes.map(([node, seq, block, run]) => ({ node, seq, block, runId: run ?? RUN })));

  const twoWrites = [...ack(1, 1, 5, 100, 110), ...ack(2, 1, 5, 200, 210)];

  t.test('passes when the last acknowledged write is there', async (t) => {
    const v = await check(twoWrites, img([2, 1, 5]));
    t.equal(v.valid, true, v.detail);
    t.match(v.detail, /1 written blocks on mirror/);
  });

  t.test('a superseded write is stale', async (t) => {
    const v = await check(twoWrites, img([1, 1, 5]));
    t.equal(v.valid, false);
    t.match(v.findings, [{ kind: 'stale', region: 1, block: 5, offset: 20480 }]);
    t.match(v.detail, 'region 1 block 5 (offset 20480) on mirror: stale: expected node2 seq 1 (acked), found node1 seq 1');
  });

  t.test('an empty block where an ack exists is a lost write', async (t) => {
    const v = await check(twoWrites, img());
    t.match(v.findings, [{ kind: 'lost', block: 5 }]);
    t.match(v.detail, /lost: expected node2 seq 1 \(acked\), found empty/);
  });

  t.test('concurrent writes may land in either order', async (t) => {
    const events = [...ack(1, 2, 3, 100, 300), ...ack(2, 5, 3, 150, 250)];
    t.equal((await check(events, img([1, 2, 3]))).valid, true);
    t.equal((await check(events, img([2, 5, 3]))).valid, true);
  });

  t.test('clock skew widens what counts as concurrent', async (t) => {
    const events = [...ack(1, 1, 2, 100, 110), ...ack(2, 1, 2, 115, 120)];
    t.equal((await check(events, img([1, 1, 2]))).valid, false);
    t.equal((await check(events, img([1, 1, 2]), { clockSkewNs: 10 })).valid, true);
  });

  t.test('writes in flight at the end may or may not have landed', async (t) => {
    t.equal((await check([inFlight(1, 1, 4, 100)], img())).valid, true, 'never acked, never landed');
    const events = [...ack(1, 1, 4, 100, 110), inFlight(2, 9, 4, 200)];
    t.equal((await check(events, img([1, 1, 4]))).valid, true, 'acked write, later one in flight');
    t.equal((await check(events, img([2, 9, 4]))).valid, true, 'in-flight write landed');
    t.equal((await check(events, img())).valid, false, 'but the acked one cannot vanish');
  });

  t.test('a torn block passes only if every sector comes from an allowed write', async (t) => {
    const offset = 4 * B;
    const a = encodeBlock({ node: 1, seq: 1, offset, runId: RUN }, B);
    const b = encodeBlock({ node: 2, seq: 9, offset, runId: RUN }, B);
    const image = img();
    Buffer.concat([a.subarray(0, 2048), b.subarray(2048)]).copy(image, offset);
    const events = [...ack(1, 1, 4, 100, 110), inFlight(2, 9, 4, 200)];
    t.equal((await check(events, image)).valid, true, 'acked write torn by the in-flight one');
    const completed = [...ack(1, 1, 4, 100, 110), ...ack(2, 9, 4, 200, 210)];
    const v = await check(completed, image);
    t.equal(v.valid, false, 'both acked: the earlier one is superseded');
    t.match(v.findings, [{ kind: 'torn', block: 4, offset }]);
    t.match(v.detail, /torn: expected node2 seq 9 \(acked\), found torn \(.*sectors 0-3: node1 seq 1; sectors 4-7: node2 seq 9\)/);
  });

  t.test('foreign data, another run and unlogged writes', async (t) => {
    const events = ack(1, 1, 6, 100, 110);
    const foreign = img();
    foreign.fill(0x5a, 6 * B, 7 * B);
    t.match((await check(events, foreign)).findings, [{ kind: 'corrupt', block: 6 }]);
    const old = await check(events, img([1, 1, 6, 3]));
    t.match(old.findings, [{ kind: 'stale' }]);
    t.match(old.detail, /found node1 seq 1 \(run 3\)/);
    t.match((await check(events, img([4, 77, 6]))).findings, [{ kind: 'unlogged' }]);
  });

  t.test('each image is checked on its own', async (t) => {
    const v = await checkNoLostWrites({
      events: twoWrites,
      images: [{ source: img([2, 1, 5]), label: 'leg0' }, { source: img([1, 1, 5]), label: 'leg1' }],
      blockBytes: B,
    });
    t.equal(v.valid, false);
    t.equal(v.findings.length, 1);
    t.match(v.findings[0]!.message, /^block 5 \(offset 20480\) on leg1: stale/);
  });

  t.test('a check that cannot run says unknown', async (t) => {
    const missing = await checkNoLostWrites({ events: twoWrites, images: [{ source: { path: '/nonexistent/img' } }], blockBytes: B });
    t.equal(missing.valid, 'unknown');
    t.match(missing.detail, /cannot open \/nonexistent\/img/);
    const mixed = await check([...ack(1, 1, 1, 1, 2, 1), ...ack(1, 1, 1, 1, 2, 2)], img());
    t.equal(mixed.valid, 'unknown');
    t.match(mixed.detail, /mix runs 1, 2/);
  });
});

t.test('safeCheck turns a crash into unknown and keeps the invariant name', async (t) => {
  const v = await safeCheck('x', () => {
    throw new TypeError('boom');
  });
  t.same(v, { valid: 'unknown', invariant: 'x', detail: 'check could not run: boom', findings: [], judged: [] });
  const ok = await safeCheck('x', async () => ({ valid: true, invariant: 'x', detail: 'fine', findings: [], judged: [{ n: 1, what: 'things' }] }));
  t.equal(ok.valid, true);
});

import t from 'tap';
import { checkNoStaleReads } from '../../../harness/oracle/checks/no-stale-reads.ts';
import type { ReadEvent, WriteEvent } from '../../../harness/oracle/writer-log.ts';

const B = 4096;
const RUN = 7;
function ack(node: number, seq: number, block: number, start: number, end: number): WriteEvent[] {
  const id = { run: RUN, node, seq, block, offset: block * B };
  return [
    { op: 'write-start', t: start, ...id },
    { op: 'write', t: end, start, ...id },
  ];
}
function read(node: number, block: number, start: number, found: { node: number; seq: number } | null, kind = found ? 'valid' : 'empty'): ReadEvent {
  return { op: 'read', t: start + 10, start, run: RUN, node, block, offset: block * B, kind, found: found && { ...found, run: RUN } };
}
const writes = [...ack(1, 1, 5, 100, 200), ...ack(1, 2, 5, 300, 400)];

t.test('fails when a read after the ack of seq 2 returns seq 1, naming block, offset, node and both writes', async (t) => {
  const v = await checkNoStaleReads({ writes, reads: [read(1, 5, 500, { node: 1, seq: 1 })], regionBytes: 4 * B });
  t.equal(v.valid, false);
  t.equal(v.invariant, 'no-stale-reads');
  t.match(v.findings, [{ kind: 'stale', region: 1, block: 5, offset: 20480, nodes: ['node1 (reader)', 'node1 seq 1', 'node1 seq 2'] }]);
  t.match(v.detail, 'region 1 block 5 (offset 20480): read on node1 at t=500 returned node1 seq 1, but node1 seq 2 was acknowledged before the read started');
});

t.test('an empty block after an acknowledged write is stale', async (t) => {
  const v = await checkNoStaleReads({ writes, reads: [read(1, 5, 500, null)] });
  t.equal(v.valid, false);
  t.match(v.detail, /returned empty/);
});

t.test('reads concurrent with the write may see the older block', async (t) => {
  const v = await checkNoStaleReads({ writes, reads: [read(1, 5, 350, { node: 1, seq: 1 }), read(1, 5, 500, { node: 1, seq: 2 })] });
  t.equal(v.valid, true, v.detail);
});

t.test('another node\'s clock is compared only with a skew bound', async (t) => {
  const cross = { writes, reads: [read(2, 5, 10_000, { node: 1, seq: 1 })] };
  t.equal((await checkNoStaleReads(cross)).valid, true, 'no skew bound: node2 cannot be ordered against node1');
  const v = await checkNoStaleReads({ ...cross, clockSkewNs: 1000 });
  t.equal(v.valid, false);
  t.match(v.findings, [{ kind: 'stale', nodes: ['node2 (reader)'] }]);
  t.equal((await checkNoStaleReads({ ...cross, clockSkewNs: 50_000 })).valid, true, 'within the skew bound it is concurrent');
});

t.test('reads of a run with no writes judge nothing', async (t) => {
  const v = await checkNoStaleReads({ writes: [], reads: [read(1, 5, 500, null)] });
  t.equal(v.valid, true);
  t.same(v.judged, [{ n: 0, what: 'reads' }]);
});

import t from 'tap';
import { checkDirtyBeforeWrite, inFlightAt } from '../../../harness/oracle/checks/dirty-before-write.ts';
import type { WriterEvent } from '../../../harness/oracle/writer-log.ts';
import { makeImage, makeLog } from '../../fixtures/oracle/build.ts';

const B = 4096;
const REGION = 4 * B;
const RUN = 7;
const base = { regionBytes: REGION, blockBytes: B, mirrorBytes: 16 * B, runId: RUN };
const w = (node: number, seq: number, block: number) => ({ node, seq, block, offset: block * B, start: 1000 });

t.test('fails on an in-flight write in a region clean on disk, naming sample, region, block, node and seq', async (t) => {
  const v = await checkDirtyBeforeWrite({ ...base, samples: [{ sample: 3, log: makeLog(4, () => true), inFlight: [w(2, 44, 9)] }] });
  t.equal(v.valid, false);
  t.equal(v.invariant, 'dirty-before-write');
  t.match(v.findings, [{ kind: 'clean-while-in-flight', region: 2, block: 9, offset: 36864, nodes: ['node2 seq 44'] }]);
  t.match(v.detail, 'sample 3: region 2 is clean on disk while node2 seq 44 (block 9, offset 36864, issued t=1000) is in flight');
});

t.test('passes when the region is dirty', async (t) => {
  const v = await checkDirtyBeforeWrite({ ...base, samples: [{ sample: 3, log: makeLog(4, (r) => r !== 2), inFlight: [w(2, 44, 9)] }] });
  t.equal(v.valid, true, v.detail);
});

t.test('with legs: judged only once the write is on some leg but not all', async (t) => {
  const before = makeImage(16, B, [{ block: 9, node: 1, seq: 3, runId: RUN }]);
  const landed = makeImage(16, B, [{ block: 9, node: 2, seq: 44, runId: RUN }]);
  const sample = (legs: Buffer[]) => ({ sample: 1, log: makeLog(4, () => true), inFlight: [w(2, 44, 9)], legs: legs.map((source) => ({ source })) });
  const midway = await checkDirtyBeforeWrite({ ...base, samples: [sample([landed, before])] });
  t.equal(midway.valid, false);
  t.match(midway.findings, [{ region: 2, block: 9, legs: ['leg0 node2 seq 44'] }]);
  t.match(midway.detail, /its data is already on leg0 node2 seq 44 but not on the other legs/);
  const notYet = await checkDirtyBeforeWrite({ ...base, samples: [sample([before, before])] });
  t.equal(notYet.valid, true, notYet.detail);
  t.match(notYet.detail, /1 on no leg or on every leg \(not judged\)/);
  t.equal((await checkDirtyBeforeWrite({ ...base, samples: [sample([landed, landed])] })).valid, true);
});

t.test('inFlightAt: started at or before the freeze and not acknowledged by then', async (t) => {
  const id = (node: number, seq: number, block: number) => ({ run: RUN, node, seq, block, offset: block * B });
  const events: WriterEvent[] = [
    { op: 'write-start', t: 100, ...id(1, 1, 4) },
    { op: 'write', t: 150, start: 100, ...id(1, 1, 4) },
    { op: 'write-start', t: 200, ...id(1, 2, 5) },
    { op: 'write', t: 260, start: 200, ...id(1, 2, 5) },
    { op: 'write-start', t: 900, ...id(2, 1, 6) },
    { op: 'write-start', t: 1200, ...id(2, 2, 7) },
  ];
  const freeze = new Map([
    [1, 250],
    [2, 1000],
  ]);
  t.same(inFlightAt(events, freeze), [
    { node: 1, block: 5, offset: 5 * B, seq: 2, start: 200 },
    { node: 2, block: 6, offset: 6 * B, seq: 1, start: 900 },
  ]);
  t.throws(() => inFlightAt(events, new Map([[1, 250]])), /no freeze time for node2/);
});

t.test('a sample whose log device does not decode is a finding', async (t) => {
  const v = await checkDirtyBeforeWrite({ ...base, samples: [{ sample: 1, log: makeLog(4, () => true, { magic: 1 }), inFlight: [] }] });
  t.equal(v.valid, false);
  t.match(v.findings, [{ kind: 'log-undecodable', message: /^sample 1: the log device does not decode: bad magic/ }]);
});

t.test('no samples: nothing judged, which judge() turns into inconclusive for a case that lists the check', async (t) => {
  const v = await checkDirtyBeforeWrite({ ...base, samples: [] });
  t.equal(v.valid, true);
  t.same(v.judged, [{ n: 0, what: 'in-flight writes' }, { n: 0, what: 'samples' }]);
});

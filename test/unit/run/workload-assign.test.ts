import t from 'tap';
import { ranges } from '../../../harness/oracle/disk-log.ts';
import { assignRegions, regionBlocks } from '../../../harness/run/workload/assign.ts';
import { clogwriteCommand, normalExit } from '../../../harness/run/workload/run.ts';

t.test('own: region r goes to writer position r mod n; no sharing', async (t) => {
  const a = assignRegions({ kind: 'own' }, [1, 2, 3], 8);
  t.same(Object.fromEntries(a), { 1: [0, 3, 6], 2: [1, 4, 7], 3: [2, 5] });
});

t.test('shared, all, list', async (t) => {
  t.same(Object.fromEntries(assignRegions({ kind: 'shared' }, [2, 3], 8)), { 2: [0, 1], 3: [0, 1] });
  t.same(assignRegions({ kind: 'all' }, [1], 4).get(1), [0, 1, 2, 3]);
  t.same(assignRegions({ kind: 'list', regions: [5, 1] }, [1, 2], 8).get(2), [5, 1]);
});

t.test('a writer with no region is an error', async (t) => {
  t.throws(() => assignRegions({ kind: 'own' }, [1, 2, 3], 2), /node 3 gets no region/);
});

t.test('ranges collapses runs into the list form clogwrite.py takes', async (t) => {
  t.equal(ranges([7, 0, 1, 2, 3, 9, 10, 3]), '0-3,7,9-10');
  t.equal(ranges([4]), '4');
});

t.test('regionBlocks', async (t) => {
  t.same(regionBlocks([0, 2], 8192, 4096), [0, 1, 4, 5]);
  t.throws(() => regionBlocks([0], 4096, 3000), /whole number/);
});

t.test('clogwrite command line', async (t) => {
  const base = { dev: '/dev/mapper/clog0', node: 2, runId: 7, blockSize: 4096, regions: [1, 2, 3], regionSize: 524288, seqStart: 1, errLog: '/var/log/clogtest/w.err' };
  t.equal(
    clogwriteCommand({ ...base, read: false, slot: { index: 4, of: 6 }, durationMs: 15000 }),
    'timeout 45.000 python3 /run/clogtest/clogwrite.py --dev /dev/mapper/clog0 --node 2 --run-id 7 --block-size 4096 --regions 1-3 --region-size 524288 --random --slot 4/6 --count 1000000000 --duration 15.000 --seq-start 1 --log - 2>>/var/log/clogtest/w.err',
  );
  t.match(
    clogwriteCommand({ ...base, read: false, slot: { index: 0, of: 3 }, depth: 64, count: 10 }),
    /--slot 0\/3 --depth 64 --count 10 /,
    'a deep writer keeps --depth writes in flight',
  );
  t.equal(
    clogwriteCommand({ ...base, read: true, count: 50 }),
    'python3 /run/clogtest/clogwrite.py --dev /dev/mapper/clog0 --node 2 --run-id 7 --block-size 4096 --regions 1-3 --region-size 524288 --random --count 50 --read --log - 2>>/var/log/clogtest/w.err',
  );
});

t.test('timeout ending a duration workload is normal', async (t) => {
  const w = { name: 'w', writers: 1, depth: 1, blockSize: 4096, regions: { kind: 'own' as const }, readers: false, statusLoop: false, mirror: 0 };
  t.equal(normalExit(124, { ...w, durationMs: 1000 }), true);
  t.equal(normalExit(124, { ...w, count: 10 }), false);
  t.equal(normalExit(0, { ...w, count: 10 }), true);
  t.equal(normalExit(null, { ...w, count: 10 }), false);
});

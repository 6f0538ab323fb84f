import t from 'tap';
import { checkNodesAgree } from '../../../harness/oracle/checks/nodes-agree.ts';
import { dumpText } from '../../fixtures/oracle/cmirrord.ts';

const UUID = 'LVM-clogtest-m0-0000000000000001';
const status = (synced: number, health = 'AA', log = 'A', minor = 0) =>
  `0 131072 mirror 2 253:${minor + 1} 253:${minor + 2} ${synced}/128 1 ${health} 3 clustered-disk 253:${minor} ${log}\n`;
const dump = (clean: (r: number) => boolean) => dumpText([{ uuid: UUID, regions: 128, sync: () => true, clean }]);

t.test('fails when a node reports another sync count, naming the nodes and values', async (t) => {
  const v = await checkNodesAgree({ statuses: [{ node: 1, text: status(128) }, { node: 2, text: status(128) }, { node: 3, text: status(97) }] });
  t.equal(v.valid, false);
  t.equal(v.invariant, 'nodes-agree');
  t.match(v.findings, [{ kind: 'status-differs', nodes: ['node1', 'node2', 'node3'] }]);
  t.match(v.detail, 'mirror: SYNCED/REGIONS differs across nodes: node1, node2 128/128; node3 97/128');
});

t.test('fails on different log state and leg health', async (t) => {
  const v = await checkNodesAgree({ statuses: [{ node: 1, text: status(128, 'AA', 'A') }, { node: 2, text: status(128, 'AD', 'D') }] });
  t.equal(v.valid, false);
  t.match(v.detail, /leg health differs across nodes: node1 AA; node2 AD/);
  t.match(v.detail, /log state differs across nodes: node1 clustered-disk A; node2 clustered-disk D/);
});

t.test('fails when the dumps\' clean bitmaps differ, naming the regions as ranges', async (t) => {
  const v = await checkNodesAgree({
    statuses: [{ node: 1, text: status(128) }, { node: 2, text: status(128) }],
    dumps: [{ node: 1, text: dump(() => true) }, { node: 2, text: dump((r) => !(r >= 17 && r <= 19) && r !== 64) }],
  });
  t.equal(v.valid, false);
  t.match(v.findings, [{ kind: 'bitmap-differs', region: 17, nodes: ['node1', 'node2'] }]);
  t.match(v.detail, 'log 00000001: clean_bits differ between node1 and node2 in regions 17-19,64 (region 17: node1 1, node2 0)');
});

t.test('a dump whose sync_count is not the number of regions set in its sync_bits is a finding on that node', async (t) => {
  const synced = (r: number) => r >= 3;
  const v = await checkNodesAgree({
    statuses: [{ node: 1, text: status(128) }, { node: 2, text: status(128) }],
    dumps: [
      { node: 1, text: dumpText([{ uuid: UUID, regions: 128, sync: synced, clean: synced, syncCount: 128 }]) },
      { node: 2, text: dumpText([{ uuid: UUID, regions: 128, sync: synced, clean: synced, syncCount: 128 }]) },
    ],
  });
  t.equal(v.valid, false);
  t.match(v.findings, [{ kind: 'dump-inconsistent', nodes: ['node1'] }, { kind: 'dump-inconsistent', nodes: ['node2'] }]);
  t.match(v.detail, 'log 00000001 on node1: sync_count 128, but 125 of its 128 regions are set in sync_bits');
});

t.test('a sync count that goes down between two rounds is a finding, unless a window lies between them', async (t) => {
  const round = (ms: number, a: number, b: number) => ({ ms, statuses: [{ node: 1, text: status(a) }, { node: 2, text: status(b) }] });
  const statuses = [{ node: 1, text: status(128) }, { node: 2, text: status(128) }];
  const back = await checkNodesAgree({ statuses, progress: { rounds: [round(1000, 100, 100), round(2000, 110, 90), round(3000, 128, 128)], windows: [] } });
  t.equal(back.valid, false);
  t.match(back.findings, [{ kind: 'resync-went-back', nodes: ['node2'] }]);
  t.match(back.detail, 'on node2: in sync 100/128 at +1.0s, then 90/128 at +2.0s, with no reload, fault or membership change between');
  const excused = await checkNodesAgree({
    statuses,
    progress: { rounds: [round(1000, 100, 100), round(5000, 110, 90), round(6000, 128, 128)], windows: [{ fromMs: 2000, toMs: 4000 }] },
  });
  t.notOk(excused.findings.some((f) => f.kind === 'resync-went-back'), excused.detail);
});

t.test('a log missing from one node\'s dump is named', async (t) => {
  const v = await checkNodesAgree({
    statuses: [{ node: 1, text: status(128) }, { node: 2, text: status(128) }],
    dumps: [{ node: 1, text: dump(() => true) }, { node: 2, text: dumpText([]) }],
  });
  t.equal(v.valid, false);
  t.match(v.findings, [{ kind: 'log-missing', nodes: ['node2'] }]);
});

t.test('passes when all nodes agree, whatever their device numbers', async (t) => {
  const v = await checkNodesAgree({
    statuses: [{ node: 1, text: status(128, 'AA', 'A', 0) }, { node: 2, text: status(128, 'AA', 'A', 3) }],
    dumps: [{ node: 1, text: dump((r) => r !== 5) }, { node: 2, text: dump((r) => r !== 5) }],
  });
  t.equal(v.valid, true, v.detail);
  t.match(v.detail, 'node1, node2 agree in dmsetup status and cmirrord dumps');
});

t.test('malformed input gives unknown', async (t) => {
  const v = await checkNodesAgree({ statuses: [{ node: 1, text: status(128) }, { node: 2, text: 'dmsetup: command timed out' }] });
  t.equal(v.valid, 'unknown');
  t.match(v.detail, /check could not run: no mirror in dmsetup status/);
  const d = await checkNodesAgree({ statuses: [{ node: 1, text: status(128) }, { node: 2, text: status(128) }], dumps: [{ node: 1, text: '' }] });
  t.equal(d.valid, 'unknown');
});

t.test('a leg or log reported failed with no fault that fails a device is a finding, even when every node says so', async (t) => {
  const failedLog = 'clog0: 0 131072 mirror 2 253:0 253:1 128/128 1 AA 3 clustered-disk 253:2 D';
  const statuses = [1, 2].map((node) => ({ node, text: failedLog }));
  const v = await checkNodesAgree({ statuses, devicesHealthy: true });
  t.equal(v.valid, false);
  t.match(v.findings, [{ kind: 'failed-without-fault', nodes: ['node1'], message: /reports log device D although no fault/ }]);
  t.equal((await checkNodesAgree({ statuses })).valid, true, 'after a fail-log the same status is expected');
});

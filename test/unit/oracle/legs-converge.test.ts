import t from 'tap';
import { checkLegsConverge } from '../../../harness/oracle/checks/legs-converge.ts';
import { makeImage, makeLog } from '../../fixtures/oracle/build.ts';

const B = 4096;
const REGION = 4 * B;
const RUN = 7;
const status = (synced: number) => `m0: 0 128 mirror 2 253:1 253:2 ${synced}/4 1 AA 3 clustered-disk 253:0 A\n`;
const leg0 = makeImage(16, B, [{ block: 6, node: 1, seq: 3, runId: RUN }]);
const leg1 = makeImage(16, B, [{ block: 6, node: 2, seq: 9, runId: RUN }]);
const base = { regionBytes: REGION, blockBytes: B, mirrorBytes: 16 * B, runId: RUN };

t.test('fails when legs differ after every node reports in sync, naming region, block, offset and writers', async (t) => {
  const v = await checkLegsConverge({ ...base, statuses: [{ node: 1, text: status(4) }, { node: 2, text: status(4) }], legs: [{ source: leg0 }, { source: leg1 }] });
  t.equal(v.valid, false);
  t.equal(v.invariant, 'legs-converge');
  t.match(v.findings, [{ kind: 'legs-differ', region: 1, block: 6, offset: 24576, nodes: ['node1 seq 3', 'node2 seq 9'] }]);
  t.match(v.detail, 'in sync on every node but region 1 (bytes 16384-32767): legs differ at block 6 (offset 24576): leg0 node1 seq 3, leg1 node2 seq 9');
});

t.test('unknown while any node is still resyncing', async (t) => {
  const v = await checkLegsConverge({ ...base, statuses: [{ node: 1, text: status(4) }, { node: 2, text: status(3) }], legs: [{ source: leg0 }, { source: leg1 }] });
  t.equal(v.valid, 'unknown');
  t.match(v.detail, 'resync not finished, cannot judge: node2 3/4');
});

t.test('passes on identical legs', async (t) => {
  const v = await checkLegsConverge({ ...base, statuses: [{ node: 1, text: status(4) }], legs: [{ source: leg0 }, { source: Buffer.from(leg0) }] });
  t.equal(v.valid, true, v.detail);
});

t.test('a status that contradicts the geometry gives unknown', async (t) => {
  const v = await checkLegsConverge({ ...base, mirrorBytes: 32 * B, statuses: [{ node: 1, text: status(4) }], legs: [{ source: leg0 }, { source: leg1 }] });
  t.equal(v.valid, 'unknown');
  t.match(v.detail, /node1 reports 4 regions; the mirror's geometry implies 8/);
});

t.test('fails when every node is in sync but the disk log still marks regions dirty', async (t) => {
  const same = [{ source: leg0 }, { source: Buffer.from(leg0) }];
  const v = await checkLegsConverge({ ...base, statuses: [{ node: 1, text: status(4) }, { node: 2, text: status(4) }], legs: same, log: makeLog(4, (r) => r === 0) });
  t.equal(v.valid, false);
  t.match(v.findings, [{ kind: 'log-not-clean', region: 1 }]);
  t.match(v.detail, 'in sync on every node but the disk log marks 3 of 4 regions dirty: 1-3');
});

t.test('passes when the disk log marks every region clean', async (t) => {
  const same = [{ source: leg0 }, { source: Buffer.from(leg0) }];
  const v = await checkLegsConverge({ ...base, statuses: [{ node: 1, text: status(4) }], legs: same, log: makeLog(4, () => true) });
  t.equal(v.valid, true, v.detail);
  t.match(v.detail, /all clean on the log device/);
});

import t from 'tap';
import { checkOneRecoveryAtATime } from '../../../harness/oracle/checks/one-recovery-at-a-time.ts';
import { kernelClock } from '../../../harness/oracle/kernel-clock.ts';

const UUID = 'clogtest-0000002a-m0';
const mirrors = { [UUID]: 'clog0' };
/** Each node's wall clock minus its kernel's local clock: the nodes booted apart. */
const BOOT = { 1: 1_796_576_005, 2: 1_796_576_000, 3: 1_796_576_003 } as Record<number, number>;

/**
 * A node's dmesg from events at wall-clock seconds (from BOOT[1]): "grant R", "irr R" (a held write asks),
 * "set R,S", "mark" (the harness's clock mark, 0.5 ms wide). Stamped on the node's local clock.
 */
function dmesg(node: number, events: Array<[number, string]>): string {
  let n = 0;
  const out: string[] = [];
  const stamp = (wall: number) => `[${(wall + BOOT[1]! - BOOT[node]!).toFixed(6).padStart(12)}] `;
  const epoch = (wall: number) => (wall + BOOT[1]!).toFixed(6);
  for (const [at, e] of events) {
    const [what, arg] = e.split(' ');
    const trace = (type: string, req: string, rep: string) =>
      `${stamp(at)}dm-log-userspace trace: n=${++n} uuid=${UUID} luid=ffff8880${node} seq=${n} type=${type} r=0 size=16 req=${req} rep=${rep}`;
    if (what === 'mark') out.push(`${stamp(at)}clogtest: clock mark ${epoch(at)}`, `${stamp(at + 0.0005)}clogtest: clock mark-end ${epoch(at + 0.0005)}`);
    else if (what === 'grant') out.push(trace('GET_RESYNC_WORK', '-', `1,${arg}`));
    else if (what === 'nowork') out.push(trace('GET_RESYNC_WORK', '-', '0,0'));
    else if (what === 'irr') out.push(trace('IS_REMOTE_RECOVERING', arg!, '1,11'));
    else if (what === 'set') out.push(trace('SET_REGION_SYNC', arg!, '-'));
    else if (what === 'insync') out.push(trace('IN_SYNC', arg!, '1'));
    else if (what === 'flush') out.push(trace('FLUSH', '-', '-'));
  }
  return out.join('\n');
}

const input = (logs: Array<{ node: number; dmesg: string }>, extra: Partial<Parameters<typeof checkOneRecoveryAtATime>[0]> = {}) => ({
  logs,
  mirrors,
  clockSkewNs: 50e6,
  departed: [],
  ...extra,
});

t.test('the clock marks tie a kernel log to its wall clock; a clock set before them does not count', async (t) => {
  const k = kernelClock(dmesg(2, [[1, 'mark'], [30, 'mark']]))!;
  t.equal(k.marks, 2);
  t.ok(Math.abs(k.offsetNs - BOOT[2]! * 1e9) <= k.errorNs + 1e3, `offset off by ${k.offsetNs - BOOT[2]! * 1e9} ns`);
  t.ok(k.errorNs <= 250_000, 'within the half-millisecond between the two writes');
  t.equal(kernelClock('[    1.000000] clogtest: clock mark 1796576001.000000'), undefined, 'a mark without its end');
  const set = `${dmesg(2, [[1, 'mark']])}\n[   9.000000] clogtest: clock set`;
  t.equal(kernelClock(set), undefined, 'marks before the last clock set are stale');
});

t.test('recoveries one after another on three nodes pass, counting them', async (t) => {
  const v = await checkOneRecoveryAtATime(
    input([
      { node: 1, dmesg: dmesg(1, [[0, 'mark'], [10, 'grant 3'], [10.5, 'irr 3'], [11, 'set 3,1'], [14, 'grant 5'], [15, 'set 5,1']]) },
      { node: 2, dmesg: dmesg(2, [[0, 'mark'], [10.2, 'nowork'], [11.2, 'grant 4'], [12, 'irr 7'], [13.9, 'set 4,1']]) },
      { node: 3, dmesg: dmesg(3, [[0, 'mark'], [15.5, 'grant 6'], [16, 'set 6,1']]) },
    ]),
  );
  t.equal(v.valid, true, v.detail);
  t.same(v.judged, [{ n: 4, what: 'recoveries' }, { n: 3, what: 'nodes on one timeline' }]);
});

t.test('a region handed to a second node while the first still held it is a finding naming both, and the SET between', async (t) => {
  // Bug 14's shape: node 3 holds 38 (its held write still asks at 39.09); node 2 sets 16 out of sync; node 1 is handed 38 too.
  const v = await checkOneRecoveryAtATime(
    input([
      { node: 1, dmesg: dmesg(1, [[0, 'mark'], [38.6, 'grant 38'], [39.7, 'set 38,1']]) },
      { node: 2, dmesg: dmesg(2, [[0, 'mark'], [38.5, 'set 16,0']]) },
      { node: 3, dmesg: dmesg(3, [[0, 'mark'], [37.96, 'grant 38'], [38.55, 'irr 38'], [39.09, 'irr 38'], [39.3, 'set 38,1']]) },
    ]),
  );
  t.equal(v.valid, false);
  t.match(v.findings, [{ kind: 'same-region', region: 38, mirror: 'clog0', nodes: ['node3', 'node1'] }]);
  t.match(
    v.detail,
    /clog0: node1 was granted region 38 \(dmesg line 3\) while node3 recovered the same region \(granted at line 3, still held at line 5, ended at line 6\): both held for 0\.49 s, beyond the clocks' 0\.05 s, after node2's SET_REGION_SYNC 16,0 \(dmesg line 3\)/,
  );
});

t.test('an overlap within the clocks\' uncertainty is not a finding; one of other regions beyond it is', async (t) => {
  const logs = [
    { node: 1, dmesg: dmesg(1, [[0, 'mark'], [10, 'grant 3'], [10.5, 'irr 3'], [11, 'set 3,1']]) },
    { node: 2, dmesg: dmesg(2, [[0, 'mark'], [10.45, 'grant 4'], [11.5, 'set 4,1']]) },
  ];
  t.equal((await checkOneRecoveryAtATime(input(logs, { clockSkewNs: 60e6 }))).valid, true, '50 ms of overlap, clocks 60 ms apart');
  const wide = await checkOneRecoveryAtATime(input(logs, { clockSkewNs: 40e6 }));
  t.match(wide.findings, [{ kind: 'overlap', region: 4, nodes: ['node1', 'node2'] }]);
  t.match(wide.detail, /with no SET_REGION_SYNC of another member or region between the grants/);
});

t.test('a read\'s IN_SYNC during the copy shows it held; a FLUSH, which a worker of dm-log-userspace may send, does not', async (t) => {
  const two = dmesg(2, [[0, 'mark'], [10.5, 'grant 4'], [11.5, 'set 4,1']]);
  const read = await checkOneRecoveryAtATime(input([{ node: 1, dmesg: dmesg(1, [[0, 'mark'], [10, 'grant 3'], [10.9, 'insync 9'], [11, 'set 3,1']]) }, { node: 2, dmesg: two }]));
  t.match(read.findings, [{ kind: 'overlap', region: 4 }]);
  const flush = await checkOneRecoveryAtATime(input([{ node: 1, dmesg: dmesg(1, [[0, 'mark'], [10, 'grant 3'], [10.9, 'flush'], [11, 'set 3,1']]) }, { node: 2, dmesg: two }]));
  t.equal(flush.valid, true, flush.detail);
});

t.test('nodes that left the group uncleanly, lost trace lines or carry no clock are not judged, and say so', async (t) => {
  const one = dmesg(1, [[0, 'mark'], [10, 'grant 3'], [12, 'irr 3'], [13, 'set 3,1']]);
  const two = dmesg(2, [[0, 'mark'], [11, 'grant 3'], [11.5, 'set 3,1']]);
  const departed = await checkOneRecoveryAtATime(input([{ node: 1, dmesg: one }, { node: 2, dmesg: two }], { departed: [{ node: 2, why: 'kill-daemon' }] }));
  t.equal(departed.valid, 'unknown');
  t.match(departed.detail, /fewer than two nodes' recoveries on one timeline; not judged: node2 \(kill-daemon\)/);
  const unmarked = await checkOneRecoveryAtATime(input([{ node: 1, dmesg: one }, { node: 2, dmesg: two.split('\n').slice(2).join('\n') }]));
  t.match(unmarked.detail, /node2 \(no clock mark in its kernel log\)/);
  const gap = await checkOneRecoveryAtATime(input([{ node: 1, dmesg: one }, { node: 2, dmesg: two.replace('n=1 ', 'n=7 ') }]));
  t.match(gap.detail, /node2 \(the dm-log-userspace trace misses line n=1/);
});

import t from 'tap';
import { differingBlocks, parsePoll, pollCommand } from '../../../harness/run/evidence/observe.ts';

t.test('differingBlocks: offsets of the blocks not equal on every leg', async (t) => {
  const a = Buffer.alloc(4 * 512);
  const b = Buffer.from(a);
  const c = Buffer.from(a);
  b[512 + 7] = 1;
  c[3 * 512] = 9;
  t.same(differingBlocks([a, b, c], 1 << 20, 512), [(1 << 20) + 512, (1 << 20) + 3 * 512]);
  t.same(differingBlocks([a, Buffer.from(a)], 0, 512), []);
});

/** What a guest printed for pollCommand(true), seen on node 2 of a real 2-node cluster. */
const OUT = `DAEMON 1
CPG GRP_NAME;PID;NODEID
CPG clogtest-f9bc2555-m0\\x00;98;1
CPG clogtest-f9bc2555-m0\\x00;95;2
CPG other-group\\x00;77;1
DISK clog0-leg0 0
DISK clog0-leg1 52
DISK clog0-log 3
DISK clog0 0
STATUS clog0: 0 131072 mirror 2 253:0 253:1 128/128 1 AA 3 clustered-disk 253:2 A
`;

t.test('parsePoll: daemon, CPG groups of the logs, log device writes, mirror status', async (t) => {
  const logs = new Map([['clog0-log', 'clogtest-f9bc2555-m0']]);
  t.same(parsePoll(2, 7, OUT, logs, ['clogtest-f9bc2555-m0']), {
    node: 2,
    round: 7,
    daemon: true,
    groups: { 'clogtest-f9bc2555-m0': [1, 2] },
    logWrites: { 'clogtest-f9bc2555-m0': 3 },
    status: 'clog0: 0 131072 mirror 2 253:0 253:1 128/128 1 AA 3 clustered-disk 253:2 A\n',
  });
  const down = parsePoll(3, 1, 'DAEMON 0\nCPG GRP_NAME;PID;NODEID\n', logs, ['clogtest-f9bc2555-m0']);
  t.same(down, { node: 3, round: 1, daemon: false, groups: {}, logWrites: {} }, 'no cmirrord, no group, no status');
});

t.test('pollCommand asks for the status only while the mirrors are loaded', async (t) => {
  t.match(pollCommand(true), /dmsetup --noudevsync status --target mirror/);
  t.notMatch(pollCommand(false), /status --target/);
  t.match(pollCommand(false), /corosync-cpgtool -d ";"/);
});

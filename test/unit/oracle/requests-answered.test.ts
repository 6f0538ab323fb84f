import t from 'tap';
import { checkRequestsAnswered } from '../../../harness/oracle/checks/requests-answered.ts';

const UUID = 'clogtest-0000002a-m0';
const mirrors = { [UUID]: 'clog0' };

/** A dmesg of trace lines (TYPE SEQ) and transfer-layer timeouts ("timeout TYPE-NUMBER/SEQ"). */
function dmesg(events: string[], luid = 'ffff888001'): string {
  let n = 0;
  return events
    .map((e, i) => {
      const ts = `[   ${(10 + i).toFixed(6)}] `;
      const [what, a] = e.split(' ');
      if (what === 'timeout') return `${ts}device-mapper: dm-log-userspace: [0002a-m0] Request timed out: [${a}] - retrying`;
      return `${ts}dm-log-userspace trace: n=${++n} uuid=${UUID} luid=${luid} seq=${a} type=${what} r=0 size=0 req=- rep=-`;
    })
    .join('\n');
}

t.test('a node whose every request was answered in time passes, counting the requests', async (t) => {
  const v = await checkRequestsAnswered({ logs: [{ node: 1, dmesg: dmesg(['CTR 1', 'RESUME 2', 'FLUSH 3', 'PRESUSPEND 4', 'FLUSH 5', 'POSTSUSPEND 6', 'DTR 7']) }], mirrors, excusedBy: [] });
  t.equal(v.valid, true, v.detail);
  t.same(v.judged, [{ n: 7, what: 'traced log requests' }, { n: 1, what: 'nodes' }]);
});

t.test('a timed-out FLUSH sent after its log\'s POSTSUSPEND is a finding that says so', async (t) => {
  const v = await checkRequestsAnswered({
    logs: [{ node: 2, dmesg: dmesg(['CTR 1', 'RESUME 2', 'PRESUSPEND 3', 'POSTSUSPEND 4', 'timeout 9/5', 'FLUSH 8', 'DTR 9']) }],
    mirrors,
    excusedBy: [],
  });
  t.equal(v.valid, false);
  t.match(v.findings, [{ kind: 'request-timed-out', mirror: 'clog0', nodes: ['node2'] }]);
  t.match(v.detail, /node2 clog0: FLUSH seq 5 of log \[0002a-m0\] went unanswered for the whole retry timeout \(dmesg line 5, 14\.000000 s\); sent after its log's POSTSUSPEND \(seq 4, dmesg line 4\)/);
});

t.test('a timeout after the log resumed again is a finding without the POSTSUSPEND remark', async (t) => {
  const v = await checkRequestsAnswered({ logs: [{ node: 1, dmesg: dmesg(['POSTSUSPEND 4', 'RESUME 5', 'timeout 12/6', 'GET_RESYNC_WORK 7']) }], mirrors, excusedBy: [] });
  t.equal(v.valid, false);
  t.match(v.detail, /GET_RESYNC_WORK seq 6 of log \[0002a-m0\] went unanswered/);
  t.notMatch(v.detail, /POSTSUSPEND \(seq/);
});

t.test('a case that ran a fault which may delay answers is not judged, whatever the logs say', async (t) => {
  const v = await checkRequestsAnswered({ logs: [{ node: 1, dmesg: dmesg(['CTR 1', 'timeout 9/2', 'FLUSH 3']) }], mirrors, excusedBy: ['kill-daemon', 'restart-daemon', 'kill-daemon'] });
  t.equal(v.valid, 'unknown');
  t.same(v.judged, []);
  t.match(v.detail, /not judged: the case ran kill-daemon, restart-daemon, which may hold an answer past the timeout/);
});

t.test('a node whose trace lost lines is still judged, and the verdict says what it could not see', async (t) => {
  const text = dmesg(['CTR 1', 'RESUME 2', 'FLUSH 3']).split('\n').slice(1).join('\n');
  const v = await checkRequestsAnswered({ logs: [{ node: 3, dmesg: text }], mirrors, excusedBy: [] });
  t.equal(v.valid, true);
  t.match(v.detail, /timeouts in lost lines unseen: node3: the dm-log-userspace trace misses line n=1/);
});

t.test('a timed-out FLUSH sent just before its log\'s POSTSUSPEND, which went out while it waited, says that', async (t) => {
  const v = await checkRequestsAnswered({ logs: [{ node: 3, dmesg: dmesg(['RESUME 2', 'CLEAR_REGION 38', 'POSTSUSPEND 40', 'CTR 41', 'timeout 9/39', 'FLUSH 45']) }], mirrors, excusedBy: [] });
  t.equal(v.valid, false);
  t.match(v.detail, /FLUSH seq 39 of log \[0002a-m0\] went unanswered .*; its log's POSTSUSPEND \(seq 40, dmesg line 3\) went out while it waited/);
});

t.test('a request of a reload\'s new table that timed out after it resumed is not put on the old table\'s POSTSUSPEND', async (t) => {
  const logs = [{ node: 1, dmesg: [dmesg(['POSTSUSPEND 10']), dmesg(['CTR 11', 'RESUME 12'], 'ffff888002').replace(/n=\d+/g, (m) => `n=${Number(m.slice(2)) + 1}`), dmesg(['timeout 9/13'])].join('\n') }];
  const v = await checkRequestsAnswered({ logs, mirrors, excusedBy: [] });
  t.equal(v.valid, false);
  t.notMatch(v.detail, /POSTSUSPEND \(seq/);
});

t.test('a daemon killed on one node excuses that node\'s timeouts only', async (t) => {
  const logs = [
    { node: 1, dmesg: dmesg(['MARK_REGION 1', 'timeout 10/2', 'MARK_REGION 3']) },
    { node: 2, dmesg: dmesg(['timeout 10/7', 'MARK_REGION 8']) },
  ];
  const v = await checkRequestsAnswered({ logs, mirrors, excusedBy: [], excusedNodes: [{ node: 1, why: 'kill-daemon' }] });
  t.equal(v.valid, false);
  t.match(v.findings, [{ kind: 'request-timed-out', nodes: ['node2'] }]);
  t.equal(v.findings.length, 1, 'node 1\'s own timeout is its killed daemon\'s');
  const ok = await checkRequestsAnswered({ logs: logs.slice(0, 1), mirrors, excusedBy: [], excusedNodes: [{ node: 1, why: 'kill-daemon' }] });
  t.match(ok.detail, /not judged: node1 \(kill-daemon\)/);
});

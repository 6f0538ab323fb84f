import t from 'tap';
import { checkMarkedBeforeWrite, parseTrace } from '../../../harness/oracle/checks/marked-before-write.ts';

const UUID = 'clogtest-0000002a-m0';
const mirrors = { [UUID]: 'clogtest-m0' };

/** A dmesg made of trace lines, numbered per source as the kernel numbers them. */
function dmesg(events: string[]): string {
  let u = 0;
  let w = 0;
  return events
    .map((e, i) => {
      const ts = `[   ${(10 + i).toFixed(6)}] `;
      if (e.startsWith('write ')) return `${ts}dm-raid1 trace: n=${++w} log=ffff888001 write region=${e.slice(6)} sectors=8 legs=2`;
      const [type, r, req] = e.split(' ');
      return `${ts}dm-log-userspace trace: n=${++u} uuid=${UUID} luid=ffff888001 seq=${100 + u} type=${type} r=${r} size=0 req=${req ?? '-'} rep=-`;
    })
    .join('\n');
}

const ctr = ['CTR 0', 'RESUME 0'];

t.test('writes after an acknowledged mark and flush pass, counting the writes', async (t) => {
  const v = await checkMarkedBeforeWrite({
    logs: [{ node: 1, dmesg: `[    1.000000] Linux version 6.1\n${dmesg([...ctr, 'MARK_REGION 0 3,4', 'FLUSH 0', 'write 3', 'write 4', 'write 3', 'CLEAR_REGION 0 3', 'MARK_REGION 0 3', 'FLUSH 0', 'write 3'])}` }],
    mirrors,
  });
  t.equal(v.valid, true, v.detail);
  t.same(v.judged[0], { n: 4, what: 'traced leg writes' });
});

t.test('a write whose mark was never flushed is a finding naming node, mirror, region and line', async (t) => {
  const v = await checkMarkedBeforeWrite({ logs: [{ node: 2, dmesg: dmesg([...ctr, 'FLUSH 0', 'MARK_REGION 0 7', 'write 7']) }], mirrors });
  t.equal(v.valid, false);
  t.match(v.findings, [{ kind: 'unmarked-write', region: 7, mirror: 'clogtest-m0', nodes: ['node2'] }]);
  t.match(v.detail, /node2: clogtest-m0 region 7: data write sent to the legs \(dmesg line 5, dm-raid1 trace n=1\) but its mark \(dmesg line 4\) was never followed by an acknowledged FLUSH/);
});

t.test('a write after a clear, not marked again, is a finding; so is one never marked', async (t) => {
  const v = await checkMarkedBeforeWrite({
    logs: [{ node: 1, dmesg: dmesg([...ctr, 'MARK_REGION 0 1', 'FLUSH 0', 'CLEAR_REGION 0 1', 'FLUSH 0', 'write 1', 'write 9']) }],
    mirrors,
  });
  t.equal(v.valid, false);
  t.equal(v.findings.length, 2);
  t.match(v.findings[0]!.message, /cleared \(dmesg line 5\) and not marked again/);
  t.match(v.findings[1]!.message, /never marked since the log was constructed/);
});

t.test('failed requests promise nothing: a failed flush does not cover the mark, a failed clear does not undo it', async (t) => {
  const failedFlush = await checkMarkedBeforeWrite({ logs: [{ node: 1, dmesg: dmesg([...ctr, 'MARK_REGION 0 2', 'FLUSH -5', 'write 2']) }], mirrors });
  t.equal(failedFlush.valid, false);
  const failedClear = await checkMarkedBeforeWrite({ logs: [{ node: 1, dmesg: dmesg([...ctr, 'MARK_REGION 0 2', 'FLUSH 0', 'CLEAR_REGION -5 2', 'write 2']) }], mirrors });
  t.equal(failedClear.valid, true, failedClear.detail);
});

t.test('the summary says how many MARK_REGION requests came before one FLUSH at most', async (t) => {
  const v = await checkMarkedBeforeWrite({
    logs: [{ node: 1, dmesg: dmesg([...ctr, 'MARK_REGION 0 1', 'FLUSH 0', 'MARK_REGION 0 2', 'MARK_REGION 0 3', 'FLUSH 0', 'write 2', 'write 3']) }],
    mirrors,
  });
  t.equal(v.valid, true, v.detail);
  t.match(v.detail, /at most 2 MARK_REGION requests before one FLUSH/);
});

t.test('an integrated flush carries its marks', async (t) => {
  const v = await checkMarkedBeforeWrite({ logs: [{ node: 1, dmesg: dmesg([...ctr, 'FLUSH 0 5,6', 'write 6']) }], mirrors });
  t.equal(v.valid, true, v.detail);
});

t.test('a mark list cut short in its line covers every region: the check never guesses against the log', async (t) => {
  const v = await checkMarkedBeforeWrite({ logs: [{ node: 1, dmesg: dmesg([...ctr, 'MARK_REGION 0 1,2,...', 'FLUSH 0', 'write 40']) }], mirrors });
  t.equal(v.valid, true, v.detail);
});

t.test('a re-mark of a region whose mark is flushed keeps it covered', async (t) => {
  const v = await checkMarkedBeforeWrite({ logs: [{ node: 1, dmesg: dmesg([...ctr, 'MARK_REGION 0 1', 'FLUSH 0', 'MARK_REGION 0 1', 'write 1']) }], mirrors });
  t.equal(v.valid, true, v.detail);
});

t.test('a new CTR for a reused luid starts from nothing', async (t) => {
  const v = await checkMarkedBeforeWrite({ logs: [{ node: 1, dmesg: dmesg([...ctr, 'MARK_REGION 0 1', 'FLUSH 0', 'DTR 0', ...ctr, 'write 1']) }], mirrors });
  t.equal(v.valid, false);
});

t.test('a node whose trace lost lines is not judged, and says so', async (t) => {
  const text = dmesg([...ctr, 'MARK_REGION 0 7', 'write 7']).split('\n').slice(1).join('\n');
  const v = await checkMarkedBeforeWrite({ logs: [{ node: 3, dmesg: text }, { node: 1, dmesg: dmesg([...ctr, 'MARK_REGION 0 1', 'FLUSH 0', 'write 1']) }], mirrors });
  t.equal(v.valid, true, v.detail);
  t.same(v.judged.at(-1), { n: 1, what: 'nodes' });
  t.match(v.detail, /node3 not judged: the dm-log-userspace trace misses line n=1/);
});

t.test('no trace at all is unknown, naming the patch and the parameters', async (t) => {
  const v = await checkMarkedBeforeWrite({ logs: [{ node: 1, dmesg: '[    1.0] Linux version 6.1' }], mirrors });
  t.equal(v.valid, 'unknown');
  t.match(v.detail, /dm-log-userspace-trace-param\.patch.*dm_mirror\.trace=1/);
});

t.test('the parser reads the kernel\'s lines as printed', async (t) => {
  const lines = parseTrace(
    '[   12.5] dm-log-userspace trace: n=4 uuid=clogtest-1-m0 luid=ffff88800356c000 seq=77 type=MARK_REGION r=0 size=16 req=3,4 rep=-\n' +
      '[   12.6] dm-raid1 trace: n=1 log=ffff88800356c000 write region=3 sectors=8 legs=2',
  );
  t.match(lines, [
    { source: 'ulog', n: 4, line: 1, luid: 'ffff88800356c000', type: 'MARK_REGION', r: 0, regions: [3, 4], truncated: false },
    { source: 'raid1', n: 1, line: 2, luid: 'ffff88800356c000', region: 3 },
  ]);
});

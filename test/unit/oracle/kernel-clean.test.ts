import t from 'tap';
import { checkKernelClean } from '../../../harness/oracle/checks/kernel-clean.ts';

const BOOT = `[    0.000000] Linux version 6.1.0 (clogtest) #1 SMP
[    2.100000] device-mapper: ioctl: 4.47.0-ioctl (2022-07-28) initialised: dm-devel@redhat.com
[    2.200000] device-mapper: dm-log-userspace: version 1.3.0 loaded
`;

const WARN = `[   40.000001] ------------[ cut here ]------------
[   40.000002] WARNING: CPU: 0 PID: 87 at drivers/md/dm-region-hash.c:619 dm_rh_inc_pending+0x9c/0xb0
[   40.000003] Modules linked in:
[   40.000004] CPU: 0 PID: 87 Comm: kmirrord Not tainted 6.1.0 #1
[   40.000005] RIP: 0010:dm_rh_inc_pending+0x9c/0xb0
[   40.000006] Call Trace:
`;

const KILLED_DAEMON = `[   50.000000] device-mapper: dm-log-userspace: Unable to send log request [9] to userspace: -3
[   50.000001] device-mapper: dm-log-userspace:  Userspace log server not found.
[   52.000000] device-mapper: dm-log-userspace: Attempting to contact userspace log server...
[   60.000000] device-mapper: dm-log-userspace: Reconnected to userspace log server... DM_ULOG_CTR complete
[   61.000000] device-mapper: dm-log-userspace: [00000001] Request timed out: [9/412] - retrying
`;

t.test('fails on a WARNING, naming the node and line with the next lines as context', async (t) => {
  const v = await checkKernelClean({ logs: [{ node: 1, dmesg: BOOT }, { node: 2, dmesg: BOOT + WARN }], expected: [] });
  t.equal(v.valid, false);
  t.equal(v.invariant, 'kernel-clean');
  t.match(v.findings, [{ kind: 'kernel-warning', nodes: ['node2'] }]);
  t.match(v.detail, 'node2 line 5: kernel-warning: [   40.000002] WARNING: CPU: 0 PID: 87 at drivers/md/dm-region-hash.c:619');
  t.match(v.detail, /\n {4}\[   40.000003\] Modules linked in:\n {4}\[   40.000004\] CPU: 0 PID: 87 Comm: kmirrord/);
});

t.test('hung tasks and dm-raid1 errors are found', async (t) => {
  const dmesg = `[  130.0] INFO: task clogwrite:301 blocked for more than 120 seconds.
[  131.0] device-mapper: raid1: Mirror read failed from 253:1. Trying alternative device.
[  132.0] I/O error, dev vdc, sector 2048 op 0x1:(WRITE) flags 0x8800 phys_seg 1 prio class 2
`;
  const v = await checkKernelClean({ logs: [{ node: 3, dmesg }], expected: [] });
  t.equal(v.valid, false);
  t.same(v.findings.map((f) => f.kind), ['hung-task', 'dm-error', 'io-error']);
});

t.test('the hung-task detector\'s settings on the command line are not a hung task', async (t) => {
  const dmesg = `[    0.000000] Kernel command line: console=ttyS0 log_buf_len=32M sysctl.kernel.hung_task_check_interval_secs=10
[  130.0] INFO: task dmsetup:412 blocked for more than 120 seconds.
[  130.1] "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.
`;
  const v = await checkKernelClean({ logs: [{ node: 2, dmesg }], expected: [] });
  t.same(v.findings.map((f) => f.kind), ['hung-task'], 'the report is one finding; the command line none');
  t.match(v.findings[0]!.message, /task dmsetup:412 blocked for more than 120 seconds/);
});

t.test('the daemon-down messages fail unless the case declares them', async (t) => {
  const bad = await checkKernelClean({ logs: [{ node: 1, dmesg: BOOT + KILLED_DAEMON }], expected: [] });
  t.equal(bad.valid, false);
  t.equal(bad.findings.length, 2, 'the retry, reconnect and timeout lines are not errors');
  const ok = await checkKernelClean({
    logs: [{ node: 1, dmesg: BOOT + KILLED_DAEMON }],
    expected: [
      { pattern: 'Unable to send log request \\[\\d+\\] to userspace: -3', reason: 'kill-daemon' },
      { pattern: 'Userspace log server not found', reason: 'kill-daemon' },
    ],
  });
  t.equal(ok.valid, true, ok.detail);
  t.match(ok.detail, '2 expected (kill-daemon)');
});

t.test('passes on a clean boot log', async (t) => {
  const v = await checkKernelClean({ logs: [{ node: 1, dmesg: BOOT }, { node: 2, dmesg: BOOT }], expected: [] });
  t.equal(v.valid, true, v.detail);
});

t.test('a bad expected pattern gives unknown', async (t) => {
  const v = await checkKernelClean({ logs: [{ node: 1, dmesg: BOOT }], expected: [{ pattern: '([', reason: 'typo' }] });
  t.equal(v.valid, 'unknown');
  t.match(v.detail, /expected pattern "\(\[" is not a regex/);
});

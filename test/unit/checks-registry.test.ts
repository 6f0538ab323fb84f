import t from 'tap';
import { CHECKS } from '../../harness/case/schema.ts';
import { CHECK_REGISTRY } from '../../harness/checks/index.ts';
import { badKernelLines } from '../../harness/checks/nodes.ts';

t.test('every check name has an entry', async (t) => {
  t.same(Object.keys(CHECK_REGISTRY).sort(), [...CHECKS].sort());
});

t.test('checks not written yet say unknown, never true', async (t) => {
  for (const name of ['dirty-before-write', 'no-stale-reads', 'single-writer'] as const) {
    const v = await CHECK_REGISTRY[name]({} as never);
    t.equal(v.valid, 'unknown', name);
    t.equal(v.invariant, name);
  }
});

t.test('kernel log lines that fail kernel-clean, minus the expected ones', async (t) => {
  const dmesg = [
    '[    0.956012] device-mapper: ioctl: 4.47.0-ioctl (2022-07-28) initialised: dm-devel@redhat.com',
    '[   48.354974] device-mapper: dm-log-userspace: [4ed49-m0] Request timed out: [9/305] - retrying',
    '[   50.1] WARNING: CPU: 0 PID: 1 at drivers/md/dm-raid1.c:123',
    '[   51.2] INFO: task python3:149 blocked for more than 120 seconds.',
    '[   52.3] device-mapper: raid1: Write error during recovery (error = 0x1)',
    '[   53.4] BUG: kernel NULL pointer dereference',
  ].join('\n');
  t.same(badKernelLines(dmesg, []).map((l) => l.slice(0, 14)), ['[   50.1] WARN', '[   51.2] INFO', '[   52.3] devi', '[   53.4] BUG:']);
  t.same(badKernelLines(dmesg, [/raid1: Write error/, /WARNING/]).length, 2);
});

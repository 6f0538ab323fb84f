/**
 * The kernel `clogtest kernel` builds boots the image `clogtest image` builds, and
 * the code under test is in it: one guest, no cluster, a fixed deadline.
 */
import './guard.ts';
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Node } from '../../harness/guest/cluster/node.ts';
import { freePorts } from '../../harness/guest/cluster/ports.ts';
import { ensureImage, planImage } from '../../harness/stack/image/index.ts';
import { ensureKernel, planKernel } from '../../harness/stack/kernel/index.ts';
import { chooseAccel, Machine } from '../../harness/guest/vm/machine.ts';
import { tempDir } from '../temp-dir.ts';

const BOOT_DEADLINE_MS = 120_000;
t.setTimeout(20 * 60_000);

t.test('the built kernel boots the built image and has dm-log-userspace', async (t) => {
  const kernel = await ensureKernel();
  const image = await ensureImage();
  t.equal((await planKernel()).key, kernel.key, 'the key --print-key gives is the one the build used');
  t.equal((await planImage()).key, image.key, 'the image key --print-key gives is the one the build used');
  const { release } = JSON.parse(readFileSync(join(kernel.dir, 'metadata.json'), 'utf8')) as { release: string };
  const dir = tempDir(t, 'clogtest-boot-', { keepOnFailure: true });
  const [ssh] = await freePorts('tcp', 1);
  const [cluster, hub] = await freePorts('udp', 2);
  const { accel } = await chooseAccel();
  const started = Date.now();
  const machine = await Machine.start({
    rootImage: image.rootImage,
    dir,
    spec: { node: 1, accel, kernel: kernel.bzImage, sharedDisks: [], sshPort: ssh!, hubPort: hub!, clusterPort: cluster! },
  });
  const node = new Node(1, dir, { ssh: ssh!, cluster: cluster! }, image.sshKey);
  node.machine = machine;
  try {
    await node.connect(BOOT_DEADLINE_MS);
    t.ok(Date.now() - started < BOOT_DEADLINE_MS, `answered over ssh ${((Date.now() - started) / 1000).toFixed(1)}s after QEMU started (${accel})`);
    t.equal((await node.execOrThrow('uname -r')).stdout.trim(), release, 'runs the kernel that was built');
    t.equal((await node.exec('test -d /sys/module/dm_log_userspace')).code, 0, 'dm-log-userspace is built in');
    t.equal((await node.execOrThrow('cat /sys/module/dm_log_userspace/parameters/retry_timeout_secs')).stdout.trim(), '15', 'the series patch is applied, default unchanged');
    t.match((await node.execOrThrow('cat /proc/misc')).stdout, /device-mapper/, 'device-mapper control node registered');
    t.match((await node.execOrThrow('dmsetup targets')).stdout, /mirror/, 'dm-mirror target available');
    t.equal((await node.exec('test -x /usr/sbin/cmirrord')).code, 0, 'cmirrord is installed');
  } finally {
    node.closeSsh();
    await machine.shutdown();
  }
  t.ok(machine.hasExited(), 'QEMU is gone');
});

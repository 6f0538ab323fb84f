/**
 * Boots a real 3-node cluster (builds or reuses the cached kernel and image) and
 * checks what every later test relies on: shared disks by serial, a quorate
 * corosync membership of all nodes, cmirrord running, a hub partition that corosync
 * notices and heals from, freeze/thaw, and a tear-down
 * that leaves no QEMU behind and the guests' logs in the run directory.
 * CLOGTEST_KERNEL_IMAGE (a bzImage) and CLOGTEST_IMAGE_DIR (holding root.img and
 * id_ed25519) skip the kernel and image builds.
 */
import './guard.ts';
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster, DEFAULT_SHARED_DISKS } from '../../harness/guest/cluster/cluster.ts';
import { parseQuorumtool } from '../../harness/guest/cluster/quorum.ts';
import { sharedDiskPath } from '../../harness/base/guest-contract.ts';
import { ensureImage } from '../../harness/stack/image/index.ts';
import { ensureKernel } from '../../harness/stack/kernel/index.ts';
import { isAlive } from '../../harness/base/proc.ts';
import { Scope, withScope } from '../../harness/base/scope.ts';

t.setTimeout(30 * 60_000);

async function stack() {
  const kernel = await ensureKernel({ kernelImage: process.env.CLOGTEST_KERNEL_IMAGE || undefined });
  const imageDir = process.env.CLOGTEST_IMAGE_DIR;
  const image = imageDir
    ? { rootImage: join(imageDir, 'root.img'), sshKey: join(imageDir, 'id_ed25519') }
    : await ensureImage();
  return { bzImage: kernel.bzImage, rootImage: image.rootImage, sshKey: image.sshKey };
}

t.test('3-node cluster comes up, serves, and goes away cleanly', async (t) => {
  const { bzImage, rootImage, sshKey } = await stack();
  const image = { rootImage, sshKey };
  const kernel = { bzImage };
  const scope = new Scope();
  let cluster: Cluster | undefined;
  let pids: number[] = [];
  try {
    cluster = await Cluster.start(
      { name: 'itest', nodes: 3, bzImage: kernel.bzImage, rootImage: image.rootImage, sshKey: image.sshKey },
      scope,
    );
    const c = cluster;
    pids = c.nodes.map((n) => n.machine!.pid);
    t.equal(c.size, 3);
    t.ok(c.timings && c.timings.total > 0, `timings ${JSON.stringify(c.timings)}`);
    t.ok(existsSync(join(c.runDir, 'timings.json')));

    for (const n of c.nodes) {
      const disks = await n.execOrThrow(`ls -L ${DEFAULT_SHARED_DISKS.map((d) => sharedDiskPath(d.serial)).join(' ')}`);
      t.equal(disks.stdout.trim().split('\n').length, DEFAULT_SHARED_DISKS.length, `${n.name} sees every shared disk by serial`);
      const q = parseQuorumtool((await n.exec('corosync-quorumtool -s')).stdout);
      t.same([q.quorate, q.members], [true, [1, 2, 3]], `${n.name} is in a quorate membership of 3`);
      t.equal((await n.exec('pgrep -x cmirrord')).code, 0, `${n.name} runs cmirrord`);
      t.match((await n.exec('cat /var/log/clogtest/cmirrord.log')).stdout, /Starting cmirrord/, `${n.name} cmirrord log is line-buffered`);
    }

    // What one node writes to a shared disk, another reads: the disks really are shared.
    await c.node(1).execOrThrow(`printf clogtest-shared | dd of=${sharedDiskPath('leg0')} oflag=direct bs=512 conv=sync status=none`);
    const seen = await c.node(3).execOrThrow(`dd if=${sharedDiskPath('leg0')} iflag=direct bs=512 count=1 status=none | head -c 15`);
    t.equal(seen.stdout, 'clogtest-shared');

    // The hub cuts real corosync traffic: node 3 alone loses quorum, 1+2 keep it, heal rejoins.
    c.hub.isolate(3);
    await Promise.all([
      c.waitMembership(c.node(1), [1, 2], true, 60_000),
      c.waitMembership(c.node(3), [3], false, 60_000),
    ]);
    t.ok(c.hub.counters().links['3->1']!.droppedPartition > 0, 'partition drops counted');
    c.hub.heal();
    await Promise.all(c.nodes.map((n) => c.waitQuorate(n, [1, 2, 3], 60_000)));
    t.pass('isolate(3) split the membership and heal() restored it');

    await c.freeze();
    for (const n of c.nodes) t.equal((await n.qmp.queryStatus()).status, 'paused', `${n.name} frozen`);
    await c.thaw();
    for (const n of c.nodes) t.equal((await n.qmp.queryStatus()).status, 'running', `${n.name} thawed`);
  } finally {
    const failures = await scope.close();
    t.same(failures, [], 'tear-down without failures');
  }

  t.same(pids.filter(isAlive), [], 'no QEMU of ours is left');
  for (const n of cluster!.nodes) {
    t.ok(existsSync(join(n.dir, 'guest', 'dmesg.txt')), `${n.name} dmesg collected`);
    t.ok(existsSync(join(n.dir, 'guest', 'corosync.log')), `${n.name} corosync.log collected`);
  }
  const hub = JSON.parse(readFileSync(join(cluster!.runDir, 'hub.json'), 'utf8')) as { links: Record<string, { forwarded: number }> };
  t.ok(hub.links['1->2']!.forwarded > 0, 'hub forwarded cluster traffic');
  t.notOk(existsSync(cluster!.disks[0]!.file), 'shared disks removed');
});

t.test('a restored cluster is this run\'s: its disks, its clocks, its console', async (t) => {
  const opts = { name: 'itest', nodes: 3, ...(await stack()) };
  // The first start saves the cluster when no run did before; the second then restores it.
  await withScope(async (scope) => void (await Cluster.start(opts, scope)));
  const scope = new Scope();
  try {
    const c = await Cluster.start(opts, scope);
    t.ok(c.timings?.restoredFrom, `restored from ${c.timings?.restoredFrom}`);
    for (const n of c.nodes) {
      t.match(readFileSync(n.machine!.serialLog, 'utf8'), /\[clogtest: restored from the saved cluster in .*\]/, `${n.name} console says where it was restored`);
      t.equal((await n.exec('pgrep -x cmirrord')).code, 0, `${n.name} runs cmirrord`);
    }
    const boot = c.clocks.filter((r) => r.batch === 'boot');
    t.equal(boot.length, 3, 'every clock set and read');
    for (const r of boot) t.ok(Math.abs(r.offsetNs) < 200_000_000, `node${r.node} clock ${r.offsetNs / 1e6} ms from the host's (error ${r.errorNs / 1e6} ms)`);
    // The guest writes to this run's file, not the one the cluster was saved with.
    await c.node(2).execOrThrow(`printf restored-disk | dd of=${sharedDiskPath('leg1')} oflag=direct bs=512 conv=sync status=none`);
    const leg1 = c.disks.find((d) => d.serial === 'leg1')!.file;
    t.equal(readFileSync(leg1).subarray(0, 13).toString(), 'restored-disk', `node2 wrote ${leg1}`);
  } finally {
    t.same(await scope.close(), [], 'tear-down without failures');
  }
});

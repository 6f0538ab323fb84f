import t from 'tap';
import { qemuArgs, type QemuSpec } from '../../../harness/guest/vm/qemu-args.ts';
import { clusterMac, mgmtMac } from '../../../harness/base/guest-contract.ts';

function spec(node: number, over: Partial<QemuSpec> = {}): QemuSpec {
  return {
    node,
    accel: 'tcg',
    kernel: '/k/bzImage',
    rootOverlay: `/run/node${node}/root.qcow2`,
    sharedDisks: [
      { serial: 'leg0', file: '/run/disks/leg0.img' },
      { serial: 'log', file: '/run/disks/log.img' },
    ],
    sshPort: 40000 + node,
    hubPort: 41000,
    clusterPort: 42000 + node,
    qmpSocket: `/run/node${node}/qmp.sock`,
    serialLog: `/run/node${node}/serial.log`,
    ...over,
  };
}

/** The values following each occurrence of flag. */
function values(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

t.test('fixed options and defaults', async (t) => {
  const a = qemuArgs(spec(2));
  for (const f of ['-nodefaults', '-no-user-config', '-no-reboot']) t.ok(a.includes(f), f);
  t.same(values(a, '-display'), ['none']);
  t.same(values(a, '-accel'), ['tcg']);
  t.same(values(a, '-cpu'), ['max']);
  t.same(values(a, '-smp'), ['1']);
  t.same(values(a, '-m'), ['768']);
  t.same(values(a, '-kernel'), ['/k/bzImage']);
  t.same(values(a, '-chardev'), ['file,id=console,path=/run/node2/serial.log,append=on']);
  t.same(values(a, '-serial'), ['chardev:console']);
  t.notOk(a.includes('-incoming'), 'boots unless told to load a state');
  t.same(values(a, '-qmp'), ['unix:/run/node2/qmp.sock,server=on,wait=off']);
  const append = values(a, '-append')[0]!;
  t.match(append, /clogtest\.node=2/);
  t.match(append, /root=\/dev\/vda/);
  t.match(append, / random.trust_cpu=on/);
});

t.test('accel is the one given', async (t) => {
  const a = qemuArgs(spec(1, { accel: 'kvm', cpus: 2, memoryMb: 1024 }));
  t.same(values(a, '-accel'), ['kvm']);
  t.same(values(a, '-cpu'), ['host']);
  t.same(values(a, '-smp'), ['2']);
  t.same(values(a, '-m'), ['1024']);
});

t.test('root disk first, shared disks shared', async (t) => {
  const a = qemuArgs(spec(1));
  t.same(values(a, '-blockdev'), [
    'driver=qcow2,node-name=root,file.driver=file,file.filename=/run/node1/root.qcow2',
    'driver=file,filename=/run/disks/leg0.img,node-name=shared-leg0,cache.direct=on,locking=off',
    'driver=file,filename=/run/disks/log.img,node-name=shared-log,cache.direct=on,locking=off',
  ]);
  const disks = values(a, '-device').filter((d) => d.startsWith('virtio-blk-pci'));
  t.same(disks, [
    'virtio-blk-pci,drive=root',
    'virtio-blk-pci,drive=shared-leg0,share-rw=on,serial=leg0',
    'virtio-blk-pci,drive=shared-log,share-rw=on,serial=log',
  ]);
});

t.test('NICs: user-mode management with ssh forward, dgram cluster NIC to the hub', async (t) => {
  const a = qemuArgs(spec(3));
  t.same(values(a, '-netdev'), [
    'user,id=mgmt,hostfwd=tcp:127.0.0.1:40003-:22,restrict=on',
    'dgram,id=clu,local.type=inet,local.host=127.0.0.1,local.port=42003,remote.type=inet,remote.host=127.0.0.1,remote.port=41000',
  ]);
  t.same(
    values(a, '-device').filter((d) => d.startsWith('virtio-net-pci')),
    [`virtio-net-pci,netdev=mgmt,mac=${mgmtMac(3)},romfile=`, `virtio-net-pci,netdev=clu,mac=${clusterMac(3)},romfile=`],
  );
});

t.test('ports and MACs are unique across nodes', async (t) => {
  const all = [1, 2, 3].map((n) => qemuArgs(spec(n)));
  const nets = all.flatMap((a) => values(a, '-netdev'));
  t.equal(new Set(nets).size, nets.length);
  const macs = all.flatMap((a) => values(a, '-device').flatMap((d) => /mac=([^,]+)/.exec(d)?.[1] ?? []));
  t.equal(macs.length, 6);
  t.equal(new Set(macs).size, 6);
});

t.test('commas in paths are escaped for QEMU', async (t) => {
  const a = qemuArgs(spec(1, { sharedDisks: [{ serial: 'x', file: '/a,b/x.img' }] }));
  t.ok(values(a, '-blockdev').includes('driver=file,filename=/a,,b/x.img,node-name=shared-x,cache.direct=on,locking=off'));
});

t.test('bad input is refused', async (t) => {
  t.throws(() => qemuArgs(spec(1, { sharedDisks: [{ serial: 'a-serial-longer-than-20', file: '/x' }] })), /1-20 characters/);
  t.throws(() => qemuArgs(spec(1, { sharedDisks: [{ serial: 'a', file: '/x' }, { serial: 'a', file: '/y' }] })), /used twice/);
  t.throws(() => qemuArgs(spec(0)), /node id/);
  t.throws(() => qemuArgs(spec(1, { sshPort: 70000 })), /ssh port/);
});

t.test('a saved state is loaded paused, by a shell that sees its path as one word', async (t) => {
  const a = qemuArgs(spec(1, { incomingState: "/cache/it's/node1.state" }));
  t.ok(a.includes('-S'));
  t.same(values(a, '-incoming'), [`exec:cat '/cache/it'\\''s/node1.state'`]);
});

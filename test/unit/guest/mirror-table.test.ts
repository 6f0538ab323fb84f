import t from 'tap';
import { TOPOLOGY_DEFAULTS, type Topology } from '../../../harness/case/schema.ts';
import { delayTable, errorTable, invalidMirrorTables, layerTable, linearTable, mirrorLayout, mirrorLayouts, mirrorTable, mirrorUuid, sharedDisks } from '../../../harness/guest/mirror/table.ts';

const topo: Topology = { ...TOPOLOGY_DEFAULTS };

t.test('clustered-disk mirror table over the dm-linear layers', async (t) => {
  const m = mirrorLayout(topo, 0);
  t.equal(
    mirrorTable(m, 'clogtest-0000002a-m0'),
    '0 131072 mirror userspace 4 clogtest-0000002a-m0 clustered-disk /dev/mapper/clog0-log 1024 2 /dev/mapper/clog0-leg0 0 /dev/mapper/clog0-leg1 0 1 handle_errors',
  );
  t.equal(m.regions, 128);
  t.equal(
    mirrorTable(m, 'U', true),
    '0 131072 mirror userspace 5 U clustered-disk /dev/mapper/clog0-log 1024 nosync 2 /dev/mapper/clog0-leg0 0 /dev/mapper/clog0-leg1 0 1 handle_errors',
    'in sync: the log\'s nosync argument, counted',
  );
});

t.test('integrated_flush goes right after the UUID, counted', async (t) => {
  const m = mirrorLayout({ ...topo, integratedFlush: true }, 0);
  t.equal(
    mirrorTable(m, 'U', true),
    '0 131072 mirror userspace 6 U integrated_flush clustered-disk /dev/mapper/clog0-log 1024 nosync 2 /dev/mapper/clog0-leg0 0 /dev/mapper/clog0-leg1 0 1 handle_errors',
  );
});

t.test('the log device by major:minor, and block_on_error, counted', async (t) => {
  const m = mirrorLayout({ ...topo, logDevice: 'devnum', blockOnError: true }, 0);
  t.equal(
    mirrorTable(m, 'U', true, '254:2'),
    '0 131072 mirror userspace 6 U clustered-disk 254:2 1024 nosync block_on_error 2 /dev/mapper/clog0-leg0 0 /dev/mapper/clog0-leg1 0 1 handle_errors',
  );
  t.throws(() => mirrorTable(m, 'U'), /clog0-log by number/, 'no number, no table');
});

t.test('clustered-core mirror table has no log device', async (t) => {
  const m = mirrorLayout({ ...topo, logType: 'clustered-core', legs: 3, regionSize: 256 * 1024 }, 0);
  t.equal(
    mirrorTable(m, 'U'),
    '0 131072 mirror userspace 3 U clustered-core 512 3 /dev/mapper/clog0-leg0 0 /dev/mapper/clog0-leg1 0 /dev/mapper/clog0-leg2 0 1 handle_errors',
  );
  t.equal(m.log, undefined);
  t.match(mirrorTable(m, 'U', true), /userspace 4 U clustered-core 512 nosync 3 /);
});

t.test('layer tables', async (t) => {
  t.equal(layerTable(topo, 'leg', 'leg0'), '0 131072 linear /dev/disk/by-id/virtio-leg0 0');
  t.equal(layerTable(topo, 'log', 'log'), '0 2048 linear /dev/disk/by-id/virtio-log 0');
  t.equal(linearTable(8, '/dev/x'), '0 8 linear /dev/x 0');
  t.equal(errorTable(8), '0 8 error');
  t.equal(delayTable(8, '/dev/x', 200), '0 8 delay /dev/x 0 200');
});

t.test('shared disks: a disk per leg, a log disk only for clustered-disk, per mirror', async (t) => {
  t.same(sharedDisks(topo), [
    { serial: 'leg0', sizeMb: 64 },
    { serial: 'leg1', sizeMb: 64 },
    { serial: 'log', sizeMb: 1 },
  ]);
  t.same(sharedDisks({ ...topo, logType: 'clustered-core', mirrors: 2 }).map((d) => d.serial), ['leg0', 'leg1', 'm1leg0', 'm1leg1']);
  t.same(mirrorLayouts({ ...topo, mirrors: 2 }).map((m) => m.name), ['clog0', 'clog1']);
});

t.test('uuid is per run and per mirror', async (t) => {
  t.equal(mirrorUuid(42, 1), 'clogtest-0000002a-m1');
  t.not(mirrorUuid(42, 0), mirrorUuid(43, 0));
});

t.test('malformed tables: each with a log UUID of its own, the disk ones only for a disk log', async (t) => {
  const disk = invalidMirrorTables(mirrorLayout(topo, 0), 'U');
  t.same(disk.map((x) => x.variant), ['unknown-log-type', 'too-few-log-args', 'uuid-too-long', 'missing-leg', 'missing-log-device', 'unknown-log-devnum', 'bad-region-size', 'too-many-log-args']);
  t.equal(new Set(disk.map((x) => x.uuid)).size, disk.length);
  t.equal(disk[0]!.table, '0 131072 mirror userspace 3 U-unknown-log-type clustered-bogus 1024 2 /dev/mapper/clog0-leg0 0 /dev/mapper/clog0-leg1 0 1 handle_errors');
  t.equal(disk[1]!.table, '0 131072 mirror userspace 1 U-too-few-log-args 2 /dev/mapper/clog0-leg0 0 /dev/mapper/clog0-leg1 0 1 handle_errors');
  t.ok(disk[2]!.uuid.length > 128, 'longer than DM_UUID_LEN allows');
  t.match(disk[3]!.table, /clustered-core 1024 2 \/dev\/mapper\/clogtest-no-such-leg 0 \/dev\/mapper\/clog0-leg1 0 /);
  t.match(disk[7]!.table, /userspace 7 U-too-many-log-args clustered-disk \/dev\/mapper\/clog0-log 1024 nosync block_on_error extra 2 /);
  const core = invalidMirrorTables(mirrorLayout({ ...topo, logType: 'clustered-core' }, 0), 'U');
  t.same(core.map((x) => x.variant), ['unknown-log-type', 'too-few-log-args', 'uuid-too-long', 'missing-leg']);
});

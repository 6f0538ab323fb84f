import t from 'tap';
import { describeLog, inSync, isDegraded, parseDmStatus, parseMirrorStatus } from '../../../harness/oracle/dm-status.ts';

t.test('a clustered-disk mirror, as `dmsetup status NAME` prints it', async (t) => {
  const s = parseMirrorStatus('0 131072 mirror 2 253:1 253:2 128/128 1 AA 3 clustered-disk 253:0 A');
  t.match(s, {
    name: '',
    start: 0,
    length: 131072,
    legs: [{ dev: '253:1', health: 'A' }, { dev: '253:2', health: 'A' }],
    synced: 128,
    regions: 128,
    log: { kind: 'disk', type: 'clustered-disk', dev: '253:0', health: 'A' },
  });
  t.equal(describeLog(s.log), 'clustered-disk A');
});

t.test('failed leg, failed log device, core log and COM_FAILURE', async (t) => {
  const d = parseMirrorStatus('0 131072 mirror 3 253:1 253:2 253:5 97/128 1 ADS 3 clustered-disk 253:0 D');
  t.same(d.legs.map((l) => l.health), ['A', 'D', 'S']);
  t.equal(describeLog(d.log), 'clustered-disk D');
  t.match(parseMirrorStatus('0 131072 mirror 2 253:1 253:2 5/128 1 AA 1 clustered-core').log, { kind: 'core', type: 'clustered-core' });
  const c = parseMirrorStatus('0 131072 mirror 2 253:1 253:2 0/128 1 AA userspace 1 COM_FAILURE');
  t.match(c, { synced: 0, regions: 128, log: { kind: 'com-failure', type: 'userspace' } });
  t.equal(describeLog(c.log), 'userspace COM_FAILURE');
});

t.test('`dmsetup status` of every device: mirrors by name, other targets skipped', async (t) => {
  const text = [
    'leg0: 0 131072 linear ',
    'leg1: 0 131072 error ',
    'm0: 0 131072 mirror 2 253:1 253:2 128/128 1 AD 3 clustered-disk 253:0 A',
    'm1: 0 65536 mirror 2 253:4 253:5 12/64 1 AA 3 clustered-disk 253:3 A',
  ].join('\n');
  const ms = parseDmStatus(text);
  t.same(ms.map((m) => [m.name, m.synced, m.regions]), [['m0', 128, 128], ['m1', 12, 64]]);
});

t.test('malformed status throws naming what is wrong', async (t) => {
  t.throws(() => parseMirrorStatus('0 131072 mirror 2 253:1 253:2 128/128 1 AX 3 clustered-disk 253:0 A'), /health "AX"/);
  t.throws(() => parseMirrorStatus('0 131072 mirror 2 253:1 128/128 1 AA 1 clustered-core'), /expected 2 legs/);
  t.throws(() => parseMirrorStatus('0 131072 mirror 2 253:1 253:2 128/128 1 AA 3 clustered-disk 253:0'), /says 3 arguments, has 2/);
  t.throws(() => parseDmStatus('No devices found\n'), /no mirror in dmsetup status/);
});

t.test('inSync and isDegraded: what the runner waits for', async (t) => {
  const st = (line: string) => parseMirrorStatus(line);
  t.equal(inSync(st('0 131072 mirror 2 254:0 254:1 100/128 1 AA 3 clustered-disk 254:2 A')), false);
  t.equal(inSync(st('0 131072 mirror 2 254:0 254:1 128/128 1 AA 3 clustered-disk 254:2 A')), true);
  t.equal(inSync(st('0 131072 mirror 2 254:0 254:1 128/128 1 AA userspace 1 COM_FAILURE')), false, 'a daemon that fails the request says nothing about sync');
  t.equal(inSync(st('0 0 mirror 2 254:0 254:1 0/0 1 AA 1 clustered-core')), false, 'no regions is no mirror to trust');
  t.equal(isDegraded(st('0 131072 mirror 2 254:0 254:1 128/128 1 AA 3 clustered-disk 254:2 A')), false);
  t.equal(isDegraded(st('0 131072 mirror 2 254:0 254:1 128/128 1 AD 1 clustered-core')), true);
  t.equal(isDegraded(st('0 8 mirror 2 a b 1/1 1 AA 3 clustered-disk 254:2 D')), true);
  t.equal(isDegraded(st('0 131072 mirror 2 254:0 254:1 128/128 1 AA userspace 1 COM_FAILURE')), false);
});

import t from 'tap';
import { inSync, isDegraded, parseMirrorStatus } from '../../harness/mirror/status.ts';

t.test('clustered-disk status', async (t) => {
  const s = parseMirrorStatus('0 131072 mirror 2 254:0 254:1 100/128 1 AA 3 clustered-disk 254:2 A\n');
  t.same(
    { legs: s.legs, legHealth: s.legHealth, synced: s.synced, regions: s.regions, logType: s.logType, logDevice: s.logDevice, logHealth: s.logHealth, comFailure: s.comFailure },
    { legs: ['254:0', '254:1'], legHealth: 'AA', synced: 100, regions: 128, logType: 'clustered-disk', logDevice: '254:2', logHealth: 'A', comFailure: false },
  );
  t.equal(inSync(s), false);
  t.equal(isDegraded(s), false);
  t.equal(inSync(parseMirrorStatus('0 131072 mirror 2 254:0 254:1 128/128 1 AA 3 clustered-disk 254:2 A')), true);
});

t.test('clustered-core status and failures', async (t) => {
  const core = parseMirrorStatus('0 131072 mirror 2 254:0 254:1 128/128 1 AD 1 clustered-core');
  t.equal(core.logType, 'clustered-core');
  t.equal(core.logHealth, undefined);
  t.equal(isDegraded(core), true);
  t.equal(isDegraded(parseMirrorStatus('0 8 mirror 2 a b 1/1 1 AA 3 clustered-disk 254:2 D')), true);
});

t.test('COM_FAILURE: cmirrord not reachable', async (t) => {
  const s = parseMirrorStatus('0 131072 mirror 2 254:0 254:1 128/128 1 AA userspace 1 COM_FAILURE');
  t.equal(s.comFailure, true);
  t.equal(s.logType, undefined);
  t.equal(inSync(s), false);
});

t.test('malformed lines are errors that quote the line', async (t) => {
  t.throws(() => parseMirrorStatus('0 8 linear 254:0 0'), /not "mirror".*linear/);
  t.throws(() => parseMirrorStatus('0 8 mirror 2 a b x/1 1 AA 1 core'), /SYNCED\/REGIONS/);
  t.throws(() => parseMirrorStatus('0 8 mirror 2 a b 1/1 1 A 1 core'), /one character per leg/);
  t.throws(() => parseMirrorStatus('0 8 mirror 2 a b 1/1 1 AA 3 clustered-disk 254:2'), /field count/);
});

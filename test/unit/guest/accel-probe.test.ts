import t from 'tap';
import { cachedVerdict, cacheVerdict, decideAccel, probeArgs, probeBootSector } from '../../../harness/guest/vm/accel-probe.ts';
import { tempDir } from '../../temp-dir.ts';

t.test('CLOGTEST_ACCEL decides when set, and says so; anything but kvm or tcg is an error', async (t) => {
  t.same(decideAccel({ forced: 'tcg', kvmOpens: true }), { accel: 'tcg', why: 'CLOGTEST_ACCEL=tcg' });
  t.same(decideAccel({ forced: 'kvm', kvmOpens: false }), { accel: 'kvm', why: 'CLOGTEST_ACCEL=kvm' });
  t.same(decideAccel({ forced: 'hvf', kvmOpens: true }), { error: 'CLOGTEST_ACCEL must be kvm or tcg, got "hvf"' });
  t.same(decideAccel({ forced: '', kvmOpens: false }), { accel: 'tcg', why: '/dev/kvm is missing or cannot be opened' }, 'empty means unset');
});

t.test('no /dev/kvm that opens: TCG, without a probe', async (t) => {
  t.same(decideAccel({ kvmOpens: false }), { accel: 'tcg', why: '/dev/kvm is missing or cannot be opened' });
});

t.test('a test guest that reaches its exit means KVM', async (t) => {
  t.same(decideAccel({ kvmOpens: true, probe: { kind: 'reached', ms: 180 } }), { accel: 'kvm', why: 'a test guest under KVM ran to its exit in 0.2 s' });
});

t.test('a test guest that does not reach its exit in time means TCG, and the line says so', async (t) => {
  t.same(decideAccel({ kvmOpens: true, probe: { kind: 'timed-out', ms: 5004 }, deadlineMs: 5000 }), {
    accel: 'tcg',
    why: 'KVM opens but a test guest did not reach its exit in 5.0 s (KVM too slow or stuck here)',
  });
});

t.test('QEMU failing to run the guest under KVM means TCG, with its first line of stderr', async (t) => {
  const stderr = 'qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\nqemu-system-x86_64: kvm.c:3183: Assertion failed.\n';
  t.same(decideAccel({ kvmOpens: true, probe: { kind: 'failed', ms: 130, exitCode: -1, stderr } }), {
    accel: 'tcg',
    why: 'KVM opens but QEMU could not run a test guest under it (qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69)',
  });
  t.match(decideAccel({ kvmOpens: true, probe: { kind: 'failed', ms: 130, exitCode: 1, stderr: '' } }), { accel: 'tcg', why: /\(exit 1\)$/ });
});

t.test('the probe guest: a boot sector that spins, then writes to isa-debug-exit; the spinning one never does', async (t) => {
  const s = probeBootSector();
  t.equal(s.length, 512);
  t.same([s[510], s[511]], [0x55, 0xaa], 'boot signature');
  t.ok(s.includes(Buffer.from([0xe6, 0xf4])), 'out 0xf4, al');
  t.notOk(probeBootSector({ reachesExit: false }).includes(Buffer.from([0xe6, 0xf4])), 'no out in the spinning one');
  t.same(probeArgs('kvm', '/x/probe.img'), [
    '-nodefaults', '-no-user-config', '-display', 'none', '-machine', 'pc',
    '-accel', 'kvm', '-cpu', 'host', '-m', '16',
    '-drive', 'file=/x/probe.img,format=raw,if=ide,index=0,media=disk,snapshot=on',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
  ]);
});

t.test('a verdict is kept for the host boot it was probed in, and only that one', async (t) => {
  const dir = tempDir(t, 'clogtest-accel-');
  const before = process.env.CLOGTEST_CACHE;
  process.env.CLOGTEST_CACHE = dir;
  t.teardown(() => {
    if (before === undefined) delete process.env.CLOGTEST_CACHE;
    else process.env.CLOGTEST_CACHE = before;
  });
  t.equal(cachedVerdict('boot-a'), undefined, 'nothing probed yet');
  cacheVerdict({ accel: 'tcg', why: 'KVM opens but a test guest did not reach its exit in 5.0 s' }, 'boot-a');
  t.match(cachedVerdict('boot-a'), { accel: 'tcg', why: /^KVM opens but a test guest did not reach its exit in 5\.0 s; probed .*, this host boot$/ });
  t.equal(cachedVerdict('boot-b'), undefined, 'another boot probes again');
});

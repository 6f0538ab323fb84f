/**
 * The accelerator probe on a real QEMU: its guest reaches its exit, a guest that never reaches it is
 * cut off at the deadline and read as "use TCG", and this host's verdict is printed with its reason.
 * Under TCG, so it runs on every host, whatever its /dev/kvm does.
 */
import './guard.ts';
import t from 'tap';
import { decideAccel, runProbe } from '../../harness/guest/vm/accel-probe.ts';
import { chooseAccel } from '../../harness/guest/vm/machine.ts';
import { tempDir } from '../temp-dir.ts';

t.test('the probe guest runs to its exit', async (t) => {
  const outcome = await runProbe('tcg', tempDir(t, 'clogtest-probe-'));
  t.equal(outcome.kind, 'reached', `reached its exit in ${outcome.ms} ms`);
});

t.test('a probe guest that never reaches its exit is cut off at the deadline and means TCG', async (t) => {
  const outcome = await runProbe('tcg', tempDir(t, 'clogtest-probe-'), { reachesExit: false, deadlineMs: 2000 });
  t.equal(outcome.kind, 'timed-out');
  t.ok(outcome.ms < 6000, `given up after ${outcome.ms} ms`);
  t.match(decideAccel({ kvmOpens: true, probe: outcome, deadlineMs: 2000 }), { accel: 'tcg', why: /^KVM opens but a test guest did not reach its exit in 2\.0 s/ });
});

t.test("this host's verdict", async (t) => {
  const v = await chooseAccel({ fresh: true });
  t.comment(`accelerator: ${v.accel} (${v.why})`);
  t.ok(v.why.length > 0, `${v.accel}: ${v.why}`);
});

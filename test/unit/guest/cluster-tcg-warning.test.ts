import t from 'tap';
import { quorumDeadlineMs, tcgTimingWarning } from '../../../harness/guest/cluster/cluster.ts';

t.test('TCG with KVM-tuned timeouts is warned about, naming each one', async (t) => {
  t.equal(
    tcgTimingWarning('tcg', { tokenMs: 1000, deadlines: { ssh: 10_000 } }),
    'running under TCG with timeouts tuned for KVM: corosync token 1000 ms (TCG default 3000), ssh deadline 10000 ms (TCG default 90000); expect spurious failures',
  );
});

t.test('no warning under KVM, or with the defaults', async (t) => {
  t.equal(tcgTimingWarning('kvm', { tokenMs: 1000 }), undefined);
  t.equal(tcgTimingWarning('tcg', { tokenMs: 3000 }), undefined);
  t.equal(tcgTimingWarning('tcg', {}), undefined);
});

t.test('the quorum deadline grows with the cluster beyond three nodes', async (t) => {
  t.equal(quorumDeadlineMs(2), 60_000);
  t.equal(quorumDeadlineMs(3), 60_000);
  t.equal(quorumDeadlineMs(8), 160_000);
});

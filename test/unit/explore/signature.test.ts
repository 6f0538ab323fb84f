/** Failures told apart: known bugs by their signatures and what the scenario did, the rest by signature. */
import t from 'tap';
import { caseTriggers, KNOWN_BUGS, type Trigger } from '../../../harness/case/known-bugs.ts';
import { loadCase } from '../../../harness/case/load.ts';
import { findCaseFiles } from '../../../harness/case/select.ts';
import { classifyFailure, findingKey } from '../../../harness/explore/signature.ts';
import { FindingsLog, sameFailure } from '../../../harness/explore/findings.ts';

const ALL = [...KNOWN_BUGS.keys()];
const ctx = (triggers: Trigger[], faultedNodes = [3], bugs = ALL) => ({ faultedNodes, triggers: new Set(triggers), bugs });
const legsDiffer = { check: 'legs-converge' as const, valid: false, findings: [{ kind: 'legs-differ', region: 5, nodes: ['node3 seq 4'], message: 'region 5 differs' }] };
const hang = { check: 'no-hang' as const, valid: false, findings: [{ kind: 'hang', message: 'step 5 (wait workload writes done) ran out after 75s' }] };

t.test('a finding is a known bug\'s only when the scenario did what the bug needs', async (t) => {
  const crashed = classifyFailure([legsDiffer], ctx(['crash', 'restart-node']));
  t.same(crashed.known, [1], 'legs differ on the crashed node after a crash: bug 1');
  t.equal(crashed.slug, 'bug-1');
  const suspended = classifyFailure([legsDiffer], ctx(['mirror:suspend']));
  t.equal(suspended.known, undefined, 'the same finding with no departure is no known bug');
  t.match(suspended.slug, /^legs-converge-legs-differ-[0-9a-f]{8}$/);
  t.same(classifyFailure([hang], ctx(['kill-corosync', 'restart-daemon'])).known, [5], 'a hang after corosync dies: the bug that needs exactly that');
  t.same(classifyFailure([hang], ctx(['kill-daemon', 'restart-daemon'])).known, [4], 'after cmirrord dies: the lowest of the bugs that need it');
  t.same(classifyFailure([hang], ctx(['mirror:suspend'])).known, undefined, 'a hang after a suspend alone is new');
});

t.test('with the fixes, a fixed bug explains nothing', async (t) => {
  const unfixed = ALL.filter((id) => KNOWN_BUGS.get(id)!.fixes.length === 0);
  t.equal(classifyFailure([legsDiffer], ctx(['crash'], [3], unfixed)).known, undefined);
});

t.test('the signature names the check, the kind, the node\'s role and the request', async (t) => {
  const f = { kind: 'request-timed-out', nodes: ['node2'], message: 'node2: FLUSH request timed out after its POSTSUSPEND' };
  t.equal(findingKey('requests-answered', f, [3]), 'requests-answered/request-timed-out/other/FLUSH');
  t.equal(findingKey('requests-answered', f, [2]), 'requests-answered/request-timed-out/faulted/FLUSH');
  t.equal(findingKey('no-hang', hang.findings[0]!, []), 'no-hang/hang/none');
  const a = classifyFailure([legsDiffer, hang], ctx(['mirror:suspend']));
  const b = classifyFailure([hang, legsDiffer], ctx(['mirror:suspend']));
  t.equal(a.signature, b.signature, 'the order of the verdicts does not matter');
  t.equal(a.findings, 2);
});

t.test('a run tells known, seen before and new apart', async (t) => {
  const log = new FindingsLog();
  const bug1 = classifyFailure([legsDiffer], ctx(['crash']));
  const odd = classifyFailure([legsDiffer], ctx(['mirror:reload']));
  t.equal(log.record(bug1, 1, 'a.yaml', 'a'), 'known');
  t.equal(log.record(odd, 2, 'b.yaml', 'b'), 'new');
  t.equal(log.record(odd, 3, 'c.yaml', 'c'), 'seen');
  t.equal(log.record(bug1, 4, 'd.yaml', 'd'), 'known');
  t.same(log.knownBugs(), [1]);
  t.equal(log.line(), '1 new, 1 known (bug 1)');
  t.same(log.failures.map((f) => [f.slug.startsWith('bug') ? f.slug : 'new', f.count, f.firstSeed]), [['bug-1', 2, 1], ['new', 2, 2]]);
});

t.test('a shrink keeps a cut only when it fails the same way', async (t) => {
  const bug1 = classifyFailure([legsDiffer], ctx(['crash']));
  const odd = classifyFailure([legsDiffer], ctx(['mirror:reload']));
  const oddHang = classifyFailure([legsDiffer, hang], ctx(['mirror:reload']));
  t.ok(sameFailure(bug1, bug1));
  t.notOk(sameFailure(bug1, odd), 'known against new');
  t.notOk(sameFailure(bug1, undefined), 'a pass');
  t.ok(sameFailure(oddHang, odd), 'a rerun may miss a finding');
  t.notOk(sameFailure(odd, classifyFailure([hang], ctx(['mirror:reload']))), 'no finding in common');
});

t.test('every case\'s known bugs are ones its steps could hit (what each bug needs is right)', async (t) => {
  for (const file of findCaseFiles(['cases'])) {
    const c = loadCase(file);
    const triggers = caseTriggers(c);
    for (const id of c.knownFailure?.bugs ?? []) {
      const needs = KNOWN_BUGS.get(id)!.needs;
      t.ok(needs.some((n) => triggers.has(n)), `${c.name}: bug ${id} needs one of ${needs.join(', ')}; the case does ${[...triggers].join(', ')}`);
    }
  }
});

import t from 'tap';
import { checkSingleWriter, singleWriter } from '../../../harness/oracle/checks/single-writer.ts';

const joined = [
  { node: 1, t: 0, members: [1, 2, 3] },
  { node: 2, t: 0, members: [1, 2, 3] },
  { node: 3, t: 0, members: [1, 2, 3] },
];
const split = [
  { node: 1, t: 1000, members: [1] },
  { node: 2, t: 1001, members: [2, 3] },
  { node: 3, t: 1001, members: [2, 3] },
  // The next poll finds both sides still split: now neither view can be a stale one.
  { node: 1, t: 2000, members: [1] },
  { node: 2, t: 2001, members: [2, 3] },
];
const healed = [1, 2, 3].map((node) => ({ node, t: 5000, members: [1, 2, 3] }));

t.test('fails on two disjoint memberships with their own servers, naming both servers and when', async (t) => {
  const v = await checkSingleWriter({ memberships: [...joined, ...split, ...healed], fenced: [] });
  t.equal(v.valid, false);
  t.equal(v.invariant, 'single-writer');
  t.match(v.findings, [{ kind: 'two-servers', nodes: ['node1', 'node2'] }]);
  t.match(v.detail, 'node1 (group 1) and node2 (group 2,3) both served the log from t=2000 to t=5000, and neither was fenced');
});

t.test('a disjoint view that may be stale is not a second server: every node suspending and resuming in turn', async (t) => {
  const g = 'clogtest-1-m0';
  const v = singleWriter({
    memberships: [
      { node: 3, t: 10, group: g, members: [3] },
      { node: 1, t: 20, group: g, members: [1] },
      { node: 3, t: 30, group: g, members: [1, 2, 3] },
      { node: 1, t: 30, group: g, members: [1, 2, 3] },
    ],
    fenced: [],
  });
  t.equal(v.valid, true, v.detail);
});

t.test('passes when the harness fenced one side\'s server', async (t) => {
  const v = await checkSingleWriter({ memberships: [...joined, ...split], fenced: [1] });
  t.equal(v.valid, true, v.detail);
});

t.test('passes when the cut-off node left the group', async (t) => {
  const v = await checkSingleWriter({ memberships: [...joined, { node: 1, t: 1000, members: [] }, ...split.filter((m) => m.node !== 1)], fenced: [] });
  t.equal(v.valid, true, v.detail);
});

t.test('overlapping views during a membership change are not judged', async (t) => {
  const v = await checkSingleWriter({ memberships: [...joined, { node: 2, t: 10, members: [2, 3] }, { node: 1, t: 10, members: [1, 3] }], fenced: [] });
  t.equal(v.valid, true, v.detail);
});

t.test('malformed input gives unknown', async (t) => {
  const v = await checkSingleWriter({ memberships: [{ node: 1, t: 0, members: ['1' as unknown as number] }], fenced: [] });
  t.equal(v.valid, 'unknown');
  t.match(v.detail, /malformed membership of node1/);
});

t.test('an input it cannot read at all gives unknown, not a throw', async (t) => {
  const v = await checkSingleWriter({ memberships: null as never, fenced: [] });
  t.equal(v.valid, 'unknown');
  t.equal(v.invariant, 'single-writer');
});

t.test('log writes: judged only where the writer\'s view held still; a view that changed may have made it the server', async (t) => {
  const g = 'clogtest-1-m0';
  const view = (node: number, t: number, members: number[]) => ({ node, t, group: g, members });
  // Every node suspends in turn: node 2 serves between node 1 leaving and itself leaving, unseen by the polls.
  const suspended = singleWriter({
    memberships: [view(2, 10, [1, 2, 3]), view(2, 20, [3])],
    logWrites: [{ node: 2, t: 10, group: g, writes: 0 }, { node: 2, t: 20, group: g, writes: 11 }],
    fenced: [],
  });
  t.equal(suspended.valid, true, suspended.detail);
  t.same(suspended.judged[1], { n: 0, what: 'intervals with log writes' });
  const behind = singleWriter({
    memberships: [view(2, 10, [1, 2, 3]), view(2, 20, [1, 2, 3])],
    logWrites: [{ node: 2, t: 10, group: g, writes: 0 }, { node: 2, t: 20, group: g, writes: 4 }],
    fenced: [],
  });
  t.equal(behind.valid, false);
  t.match(behind.findings, [{ kind: 'non-server-write', message: /while its view of the group was \[1,2,3\] throughout: node1 was the server/ }]);
});

t.test('log writes in an interval that meets a mirror reload are not judged: the view changed and changed back unseen', async (t) => {
  const g = 'clogtest-1-m0';
  const view = (node: number, t: number, members: number[]) => ({ node, t, group: g, members });
  const input = {
    memberships: [view(2, 57669, [1, 2, 3]), view(2, 61641, [1, 2, 3])],
    logWrites: [{ node: 2, t: 57669, group: g, writes: 0 }, { node: 2, t: 61641, group: g, writes: 15 }],
    fenced: [],
  };
  const reloaded = singleWriter({ ...input, unsettled: [{ fromMs: 58330, toMs: 64000 }] });
  t.equal(reloaded.valid, true, reloaded.detail);
  t.same(reloaded.judged[1], { n: 0, what: 'intervals with log writes' });
  t.equal(singleWriter({ ...input, unsettled: [{ fromMs: 70000, toMs: 80000 }] }).valid, false);
});

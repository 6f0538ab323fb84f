import t from 'tap';
import { checkSingleWriter } from '../../harness/oracle/checks/single-writer.ts';

const joined = [
  { node: 1, t: 0, members: [1, 2, 3] },
  { node: 2, t: 0, members: [1, 2, 3] },
  { node: 3, t: 0, members: [1, 2, 3] },
];
const split = [
  { node: 1, t: 1000, members: [1] },
  { node: 2, t: 1001, members: [2, 3] },
  { node: 3, t: 1001, members: [2, 3] },
];
const healed = [1, 2, 3].map((node) => ({ node, t: 5000, members: [1, 2, 3] }));

t.test('fails on two disjoint memberships with their own servers, naming both servers and when', async (t) => {
  const v = await checkSingleWriter({ memberships: [...joined, ...split, ...healed], fenced: [] });
  t.equal(v.valid, false);
  t.equal(v.invariant, 'single-writer');
  t.match(v.findings, [{ kind: 'two-servers', nodes: ['node1', 'node2'] }]);
  t.match(v.detail, 'node1 (group 1) and node2 (group 2,3) both served the log from t=1001 to t=5000, and neither was fenced');
});

t.test('passes when the harness fenced one side\'s server', async (t) => {
  const v = await checkSingleWriter({ memberships: [...joined, ...split], fenced: [1] });
  t.equal(v.valid, true, v.detail);
});

t.test('passes when the cut-off node left the group', async (t) => {
  const v = await checkSingleWriter({ memberships: [...joined, { node: 1, t: 1000, members: [] }, ...split.slice(1)], fenced: [] });
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

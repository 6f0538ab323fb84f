import t from 'tap';
import { differingBlocks, fencedNodes, membershipView } from '../../harness/checks/observe.ts';
import type { HistoryEntry } from '../../harness/history.ts';

t.test('differingBlocks: offsets of the blocks not equal on every leg', async (t) => {
  const a = Buffer.alloc(4 * 512);
  const b = Buffer.from(a);
  const c = Buffer.from(a);
  b[512 + 7] = 1;
  c[3 * 512] = 9;
  t.same(differingBlocks([a, b, c], 1 << 20, 512), [(1 << 20) + 512, (1 << 20) + 3 * 512]);
  t.same(differingBlocks([a, Buffer.from(a)], 0, 512), []);
});

const e = (fields: Partial<HistoryEntry>): HistoryEntry => ({ t: '', ms: 0, type: 'fault', ...fields });

t.test('fencedNodes: taken out while the network was split, and only then', async (t) => {
  const all = [1, 2, 3];
  t.same(fencedNodes([e({ what: 'fault crash', node: [1], event: 'start' })], all), [], 'a crash on a whole network fences nothing');
  t.same(
    fencedNodes([e({ what: 'fault partition', event: 'start' }), e({ what: 'fault crash', node: [1], event: 'start' }), e({ what: 'fault kill-daemon', node: 3, event: 'start' })], all),
    [1, 3],
  );
  t.same(fencedNodes([e({ what: 'fault isolate', event: 'start' }), e({ what: 'fault heal', event: 'start' }), e({ what: 'fault reset', node: [2], event: 'start' })], all), []);
  t.same(fencedNodes([e({ what: 'fault isolate', event: 'start' }), e({ fault: 'heal-all' }), e({ what: 'fault crash', node: [2], event: 'start' })], all), []);
  t.same(fencedNodes([e({ what: 'fault partition', event: 'start' }), e({ what: 'fault crash', event: 'start' })], all), all, 'no on: is every node');
  t.same(fencedNodes([e({ what: 'fault partition', event: 'start' }), e({ what: 'fault crash', node: [1], event: 'done' })], all), [], 'the end of a step is not the fault');
});

t.test('membershipView: corosync members while cmirrord runs, nobody otherwise', async (t) => {
  const out = `Quorum information\n------------------\nNode ID:          2\nQuorate:          Yes\n\nMembership information\n----------------------\n    Nodeid      Votes Name\n         1          1 10.0.1.1\n         2          1 10.0.1.2 (local)\n`;
  t.same(membershipView(2, 5, out), { node: 2, t: 5, members: [1, 2] });
  t.same(membershipView(2, 5, `NO-CMIRRORD\n${out}`).members, []);
});

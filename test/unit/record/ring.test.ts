/** Ring departures no fault caused: read from corosync's logs, counted against the case's faults. */
import t from 'tap';
import type { HistoryEntry } from '../../../harness/record/history.ts';
import { ringDepartures, unplannedEvictions } from '../../../harness/record/ring.ts';

const fault = (fault: string, nodes: number[]): HistoryEntry => ({ t: '', ms: 0, type: 'fault', fault, nodes, event: 'start' });

// Lines of a two-node run: node 1 (the server) crashed at 13:10:03, came back, and under a 400 ms network
// delay on node 1 the two lost the token and each saw the other leave at 13:10:36.
const NODE1 = `Dec 06 13:10:20 [58] node1 corosync notice  [TOTEM ] A new membership (1.5) was formed. Members joined: 1
Dec 06 13:10:22 [58] node1 corosync notice  [TOTEM ] A new membership (1.11) was formed. Members joined: 2
Dec 06 13:10:32 [58] node1 corosync notice  [TOTEM ] Token has not been received in 2257 ms
Dec 06 13:10:36 [58] node1 corosync notice  [TOTEM ] A new membership (1.15) was formed. Members left: 2
Dec 06 13:10:37 [58] node1 corosync notice  [TOTEM ] A new membership (1.19) was formed. Members joined: 2`;
const NODE2 = `Dec 06 13:00:51 [51] node2 corosync notice  [TOTEM ] A new membership (2.9) was formed. Members left: 1
Dec 06 13:10:07 [51] node2 corosync notice  [TOTEM ] A new membership (2.d) was formed. Members left: 1
Dec 06 13:10:22 [51] node2 corosync notice  [TOTEM ] A new membership (1.11) was formed. Members joined: 1
Dec 06 13:10:36 [51] node2 corosync notice  [TOTEM ] A new membership (2.15) was formed. Members left: 1`;
const start = Date.UTC(2026, 11, 6, 13, 9, 56);
const departures = [...ringDepartures(1, NODE1, 2026), ...ringDepartures(2, NODE2, 2026)];

t.test('the "Members left" lines, with their time and the nodes that left', async (t) => {
  t.same(departures.map((d) => [d.observer, d.left, new Date(d.t).toISOString()]), [
    [1, [2], '2026-12-06T13:10:36.000Z'],
    [2, [1], '2026-12-06T13:00:51.000Z'],
    [2, [1], '2026-12-06T13:10:07.000Z'],
    [2, [1], '2026-12-06T13:10:36.000Z'],
  ]);
  t.same(ringDepartures(3, 'Dec 06 13:10:36 [5] node3 corosync notice  [TOTEM ] A new membership (1.15) was formed. Members left: 1 2', 2026)[0]!.left, [1, 2]);
});

t.test('a node that left more often than its faults took it out came back unfenced', async (t) => {
  const found = unplannedEvictions(departures, [fault('crash', [1]), fault('restart-node', [1]), fault('net-delay', [1])], start);
  // Node 2 saw node 1 leave twice after the cluster formed (the line before it is not counted), once for
  // the crash. Node 1's view of node 2 is not counted: node 1 was taken out itself, and a node coming back
  // sees the others leave.
  t.same(found.map((e) => [e.node, e.observer, e.departures, e.planned]), [[1, 2, 2, 1]]);
  t.match(found[0]!.lines.at(-1), /13:10:36 .*Members left: 1/);
});

t.test('departures the faults explain, or a case that splits the network on purpose, are not evictions', async (t) => {
  const crashOnly = departures.filter((d) => !d.line.includes('13:10:36'));
  t.same(unplannedEvictions(crashOnly, [fault('crash', [1]), fault('restart-node', [1])], start), []);
  t.same(unplannedEvictions(departures, [fault('crash', [1]), fault('isolate', [2])], start), []);
});

t.test('a pause that evicts its node is not planned: the node goes on unfenced', async (t) => {
  const paused = departures.filter((d) => d.observer === 2 && d.line.includes('13:10:36'));
  t.same(unplannedEvictions(paused, [fault('pause', [1]), fault('resume', [1])], start).map((e) => [e.node, e.planned]), [[1, 0]]);
  // Node 1's own view while it was paused is not counted.
  t.same(unplannedEvictions(departures.filter((d) => d.observer === 1), [fault('pause', [1])], start), []);
});

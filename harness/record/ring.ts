/**
 * Departures from the corosync ring that no fault of the case caused. cmirrord assumes a node that leaves
 * the ring is fenced before it comes back (it ignores quorum); the harness fences by crashing, resetting or
 * killing, and splits the network only where a case says so. A node evicted for another reason (a token
 * lost under a network delay or a long pause) comes back unfenced and serves a log of its own for a while,
 * so the logs may differ by design: what the checks find after that is outside the model they judge.
 */
import { existsSync, readFileSync } from 'node:fs';
import { faultSpec } from '../case/fault-kinds.ts';
import { COROSYNC_LOG } from '../guest/cluster/corosync-conf.ts';
import { nodeDir, nodeIdsIn, pulledLog } from '../guest/cluster/node-dirs.ts';
import { entriesOf, type FaultFields } from './events.ts';
import type { HistoryEntry } from './history.ts';

/** One "Members left" line of a node's corosync log. */
export interface RingDeparture {
  observer: number;
  /** Host time (ms since the epoch) from the log line's timestamp, to the second. */
  t: number;
  left: number[];
  line: string;
}

export interface UnplannedEviction {
  node: number;
  observer: number;
  /** Departures of `node` its observer logged, and the faults of the case that take it out of the ring. */
  departures: number;
  planned: number;
  lines: string[];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * The "Members left" lines of one node's corosync log (syslog-style stamps, which carry no year: `year`
 * supplies it). Guests keep UTC, set from the host's clock at boot.
 */
export function ringDepartures(observer: number, text: string, year: number): RingDeparture[] {
  const out: RingDeparture[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\w{3}) (\d\d) (\d\d):(\d\d):(\d\d) .*A new membership .* was formed\. Members left: ([\d ]+)/.exec(line);
    if (!m) continue;
    const month = MONTHS.indexOf(m[1]!);
    if (month < 0) continue;
    const t = Date.UTC(year, month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
    out.push({ observer, t, left: m[6]!.trim().split(/\s+/).map(Number), line: line.trim() });
  }
  return out;
}

/**
 * Nodes that left the ring more often than the case's faults fenced them (crash, reset, kill-corosync),
 * as seen by an observer that no fault took out itself (a paused node sees the others leave when it goes
 * on). Departures before `fromMs` (the cluster's forming) are not counted. A case that splits the network
 * on purpose has no unplanned evictions by this measure.
 */
export function unplannedEvictions(departures: readonly RingDeparture[], history: readonly HistoryEntry[], fromMs: number): UnplannedEviction[] {
  const starts = entriesOf<FaultFields>([...history], 'fault').flatMap((f) => (f.event === 'start' && f.fault !== 'heal-all' ? [{ spec: faultSpec(f.fault), nodes: f.nodes }] : []));
  if (starts.some((f) => f.spec.splits)) return [];
  const takenOut = (node: number, fenced: boolean) => starts.filter((f) => f.spec.leavesRing && (!fenced || f.spec.fences) && f.nodes.includes(node)).length;
  // A pause takes its node out of the ring without fencing it: a departure it causes is not planned.
  const planned = (node: number) => takenOut(node, true);
  const counted = departures.filter((d) => d.t >= fromMs && takenOut(d.observer, false) === 0);
  const out: UnplannedEviction[] = [];
  for (const node of [...new Set(counted.flatMap((d) => d.left))].sort((a, b) => a - b)) {
    const byObserver = new Map<number, RingDeparture[]>();
    for (const d of counted.filter((x) => x.left.includes(node) && x.observer !== node)) byObserver.set(d.observer, [...(byObserver.get(d.observer) ?? []), d]);
    for (const [observer, seen] of byObserver) {
      if (seen.length <= planned(node)) continue;
      out.push({ node, observer, departures: seen.length, planned: planned(node), lines: seen.map((d) => d.line) });
      break;
    }
  }
  return out;
}

/** The corosync logs the cluster's tear-down pulled from each guest: node id -> text. */
export function corosyncLogs(clusterDir: string): Map<number, string> {
  const logs = new Map<number, string>();
  for (const id of nodeIdsIn(clusterDir)) {
    const file = pulledLog(nodeDir(clusterDir, id), COROSYNC_LOG);
    if (existsSync(file)) logs.set(id, readFileSync(file, 'utf8'));
  }
  return logs;
}

export function describeEviction(e: UnplannedEviction): string {
  return `node ${e.node} left the corosync ring ${e.departures} time(s) as node ${e.observer} saw it, and the case's faults took it out ${e.planned} time(s): it came back unfenced (${e.lines[e.lines.length - 1]})`;
}

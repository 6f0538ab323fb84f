/**
 * Invariant: at most one node writes a log device at a time, and only its server does. cmirrord makes the lowest
 * nodeid of the log's CPG group (named by the log's UUID) the server, the only node that writes the log device
 * (lvm2 cmirrord cluster.c: i_am_server = my_cluster_id == lowest_id; functions.c clog_flush writes only
 * `if (server)`, clog_resume only on the master resume of the group's first member), and it ignores quorum.
 *
 * Two things are judged:
 *   - views: a node's view of a group holds from the time it was observed until its next observation; an empty
 *     member list means the node is not in the group (cmirrord down, node crashed). A node serves when it is the
 *     lowest id of its own view. Two servers of one group with disjoint views write the same disk, unless the
 *     harness fenced one of them. Views that overlap but differ are transitions CPG resolves and are not judged;
 *     so are disjoint views until each node has been seen holding its view again after the other's began (a
 *     view last polled before the other node's began may be stale: every node suspending and resuming in turn
 *     shows [3] on node 3 and then [1] on node 1, though the two never served together).
 *   - writes: each node's count of completed writes to the log device (the kernel's, read in the guest) over
 *     time. A node whose count went up between two polls, and whose view of the group was the same at both
 *     polls, must have been its server then; a write by such a node that was not the lowest of its view is a
 *     log written behind the server's back. An interval in which the node's view changed is not judged: the
 *     membership may have passed through a view nobody polled in which the node did serve (seen: every node
 *     suspending in turn makes each the server for a moment, between the lower ones leaving and itself). Nor
 *     is one that meets a mirror operation or a fault that disturbs the membership: there the view can change
 *     and change back between two polls (seen: node 2 wrote the log while node 1 reloaded, and both polls
 *     around it showed [1,2,3]).
 */
import { safeCheck, verdictFrom, type Finding, type Verdict } from '../verdict.ts';

export const INVARIANT = 'single-writer';

export interface Membership {
  /** The observing node. */
  node: number;
  /** When the view was observed, on one timeline for all nodes (the harness host's clock, ms). */
  t: number;
  /** The CPG group (a log's UUID) this view is of; one group when absent. */
  group?: string;
  /** The group's members as this node saw them from `t` on; [] when it is not in the group. */
  members: number[];
}

export interface LogWrites {
  node: number;
  t: number;
  group: string;
  /** Writes completed on the log device, as the node's kernel counts them (/sys/block/dm-N/stat). */
  writes: number;
}

export interface SingleWriterInput {
  memberships: Membership[];
  /** Polled write counters of the log devices; without them only the views are judged. */
  logWrites?: LogWrites[];
  /** Nodes the harness fenced (crashed, reset or killed) while partitioned: they cannot write. */
  fenced: number[];
  /**
   * Times the membership may change and change back between two polls (a mirror reload: every node leaves and
   * joins the group again, each the server for a moment): log writes in an interval that meets one are not judged.
   */
  unsettled?: Array<{ fromMs: number; toMs: number }>;
}

interface Episode {
  group: string;
  a: number;
  b: number;
  viewA: number[];
  viewB: number[];
  from: number;
  to: number;
}

const groupOf = (m: { group?: string }) => m.group ?? '';

function twoServerEpisodes(memberships: Membership[], fenced: Set<number>): Episode[] {
  const episodes: Episode[] = [];
  const groups = [...new Set(memberships.map(groupOf))].sort();
  for (const group of groups) {
    const events = memberships.filter((m) => groupOf(m) === group).sort((x, y) => x.t - y.t);
    // Per node: its current view, when that view was first seen, and when it was last seen again.
    const views = new Map<number, { view: number[]; first: number; last: number }>();
    const open = new Map<string, Episode>();
    const times = [...new Set(events.map((e) => e.t))];
    let i = 0;
    for (const t of times) {
      for (; i < events.length && events[i]!.t === t; i++) {
        const view = [...new Set(events[i]!.members)].sort((x, y) => x - y);
        const was = views.get(events[i]!.node);
        const same = was && was.view.length === view.length && was.view.every((n, k) => n === view[k]);
        views.set(events[i]!.node, { view, first: same ? was.first : t, last: t });
      }
      const servers = [...views].filter(([node, v]) => v.view[0] === node && !fenced.has(node)).sort(([x], [y]) => x - y);
      const now = new Set<string>();
      for (let p = 0; p < servers.length; p++) {
        for (let q = p + 1; q < servers.length; q++) {
          const [a, va] = servers[p]!;
          const [b, vb] = servers[q]!;
          const [viewA, viewB] = [va.view, vb.view];
          if (viewA.some((n) => viewB.includes(n))) continue;
          // Both views confirmed after the other began: otherwise one of them may be stale.
          if (va.last < vb.first || vb.last < va.first) continue;
          const k = `${a}/${b}`;
          now.add(k);
          if (!open.has(k)) open.set(k, { group, a, b, viewA, viewB, from: t, to: Infinity });
        }
      }
      for (const [k, ep] of open) {
        if (now.has(k)) continue;
        ep.to = t;
        episodes.push(ep);
        open.delete(k);
      }
    }
    episodes.push(...open.values());
  }
  return episodes;
}

/** The view of `group` node `node` had at time t: the last one observed at or before it. */
function viewAt(memberships: Membership[], node: number, group: string, t: number): number[] | undefined {
  return memberships.filter((m) => m.node === node && groupOf(m) === group && m.t <= t).sort((x, y) => x.t - y.t).at(-1)?.members;
}

const sameView = (a: number[], b: number[]) => a.length === b.length && [...a].sort().every((n, i) => n === [...b].sort()[i]);

function writesBehindTheServer(memberships: Membership[], logWrites: LogWrites[], unsettled: Array<{ fromMs: number; toMs: number }>): { judged: number; findings: Finding[] } {
  const findings: Finding[] = [];
  let judged = 0;
  const series = new Map<string, LogWrites[]>();
  for (const w of logWrites) series.set(`${w.node}/${w.group}`, [...(series.get(`${w.node}/${w.group}`) ?? []), w]);
  for (const points of series.values()) {
    points.sort((x, y) => x.t - y.t);
    for (let i = 1; i < points.length; i++) {
      const [a, b] = [points[i - 1]!, points[i]!];
      // A counter that went down belongs to a device made again (the node rebooted): no interval to judge.
      if (b.writes <= a.writes) continue;
      const [before, after] = [viewAt(memberships, b.node, b.group, a.t), viewAt(memberships, b.node, b.group, b.t)];
      if (!before || !after || before.length === 0 || !sameView(before, after)) continue;
      if (unsettled.some((w) => w.fromMs <= b.t && a.t <= w.toMs)) continue;
      judged++;
      if (Math.min(...after) === b.node) continue;
      findings.push({
        kind: 'non-server-write',
        nodes: [`node${b.node}`],
        message:
          `node${b.node} wrote the log device of ${b.group} ${b.writes - a.writes} time(s) between t=${a.t} and t=${b.t}, ` +
          `while its view of the group was [${after.join(',')}] throughout: node${Math.min(...after)} was the server`,
      });
    }
  }
  return { judged, findings };
}

export function singleWriter(input: SingleWriterInput): Verdict {
  for (const m of input.memberships) {
    if (!Number.isFinite(m.t) || !Array.isArray(m.members) || m.members.some((n) => !Number.isInteger(n))) {
      throw new Error(`malformed membership of node${m.node} at t=${m.t}: ${JSON.stringify(m.members)}`);
    }
  }
  const episodes = twoServerEpisodes(input.memberships, new Set(input.fenced));
  const findings: Finding[] = episodes.map((e) => ({
    kind: 'two-servers',
    nodes: [`node${e.a}`, `node${e.b}`],
    message:
      `${e.group ? `${e.group}: ` : ''}node${e.a} (group ${e.viewA.join(',')}) and node${e.b} (group ${e.viewB.join(',')}) both served the log ` +
      `from t=${e.from} ${e.to === Infinity ? 'to the last observation' : `to t=${e.to}`}, and neither was fenced`,
  }));
  const writes = writesBehindTheServer(input.memberships, input.logWrites ?? [], input.unsettled ?? []);
  findings.push(...writes.findings);
  const nodes = [...new Set(input.memberships.map((m) => m.node))].sort((x, y) => x - y);
  // A view the observer is not in (cmirrord down, or no group seen) says nobody serves there: what is
  // judged is the views in which a node saw itself in a group.
  const inGroup = input.memberships.filter((m) => m.members.includes(m.node)).length;
  const what = `${input.memberships.length} views of ${nodes.map((n) => `node${n}`).join(', ')}${input.logWrites ? ` and ${writes.judged} intervals with log device writes` : ''}`;
  return verdictFrom(INVARIANT, findings, `${what}: never two unfenced servers${input.logWrites ? ', no write by a non-server' : ''}`, `in ${what}`, [
    { n: inGroup, what: 'views of a node in a log\'s group' },
    { n: writes.judged, what: 'intervals with log writes' },
  ]);
}

export const checkSingleWriter = (input: SingleWriterInput) => safeCheck(INVARIANT, () => singleWriter(input));

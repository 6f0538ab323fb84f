/**
 * Invariant: at most one node writes the log device at a time. cmirrord makes the lowest nodeid of the log's
 * CPG group the server (the only log writer) and ignores quorum, so two disjoint memberships mean two servers
 * writing the same disk, unless the harness fenced one of them.
 *
 * A node's view holds from the time it was observed until its next observation; an empty member list means the
 * node left (daemon or corosync down, node crashed) and serves nothing. A node serves when it is the lowest id of
 * its own view: what other nodes think does not make it write. Views that overlap but differ are
 * transitions that CPG resolves and are not judged: only disjoint views are unambiguous double servers.
 */
import { safeCheck, verdictFrom, type Finding, type Verdict } from '../verdict.ts';

export const INVARIANT = 'single-writer';

export interface Membership {
  /** The observing node. */
  node: number;
  /** When the view was observed, on one timeline for all nodes (the harness host's clock, ms). */
  t: number;
  /** The group's members as this node saw them from `t` on; [] when it left. */
  members: number[];
}

export interface SingleWriterInput {
  memberships: Membership[];
  /** Nodes the harness fenced (crashed, reset or killed) while partitioned: they cannot write. */
  fenced: number[];
}

interface Episode {
  a: number;
  b: number;
  viewA: number[];
  viewB: number[];
  from: number;
  to: number;
}

export function singleWriter(input: SingleWriterInput): Verdict {
  for (const m of input.memberships) {
    if (!Number.isFinite(m.t) || !Array.isArray(m.members) || m.members.some((n) => !Number.isInteger(n))) {
      throw new Error(`malformed membership of node${m.node} at t=${m.t}: ${JSON.stringify(m.members)}`);
    }
  }
  const fenced = new Set(input.fenced);
  const events = [...input.memberships].sort((x, y) => x.t - y.t);
  const views = new Map<number, number[]>();
  const open = new Map<string, Episode>();
  const episodes: Episode[] = [];
  const times = [...new Set(events.map((e) => e.t))];
  let i = 0;
  for (const t of times) {
    for (; i < events.length && events[i]!.t === t; i++) views.set(events[i]!.node, [...new Set(events[i]!.members)].sort((x, y) => x - y));
    const servers = new Map<number, number[]>();
    for (const [node, view] of views) if (view[0] === node && !fenced.has(node)) servers.set(node, view);
    const now = new Set<string>();
    const list = [...servers].sort(([x], [y]) => x - y);
    for (let p = 0; p < list.length; p++) {
      for (let q = p + 1; q < list.length; q++) {
        const [a, viewA] = list[p]!;
        const [b, viewB] = list[q]!;
        if (viewA.some((n) => viewB.includes(n))) continue;
        const k = `${a}/${b}`;
        now.add(k);
        if (!open.has(k)) open.set(k, { a, b, viewA, viewB, from: t, to: Infinity });
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
  const findings: Finding[] = episodes.map((e) => ({
    kind: 'two-servers',
    nodes: [`node${e.a}`, `node${e.b}`],
    message:
      `node${e.a} (group ${e.viewA.join(',')}) and node${e.b} (group ${e.viewB.join(',')}) both served the log ` +
      `from t=${e.from} ${e.to === Infinity ? 'to the last observation' : `to t=${e.to}`}, and neither was fenced`,
  }));
  const nodes = [...new Set(input.memberships.map((m) => m.node))].sort((x, y) => x - y);
  return verdictFrom(
    INVARIANT,
    findings,
    `${input.memberships.length} membership views of ${nodes.map((n) => `node${n}`).join(', ')}: never two unfenced servers`,
    `in ${input.memberships.length} membership views`,
  );
}

export const checkSingleWriter = (input: SingleWriterInput) => safeCheck(INVARIANT, () => singleWriter(input));

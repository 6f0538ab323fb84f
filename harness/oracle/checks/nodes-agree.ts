/**
 * Invariant 5: when quiescent, every node reports the same sync count, region count, leg health and log state in
 * `dmsetup status`, cmirrord's SIGUSR1 dumps show the same sync and clean bitmaps on every node, each dump's
 * sync_count is the number of regions set in its own sync_bits, and each node's dump agrees with its own status
 * (the kernel's sync count is what cmirrord answered). Device numbers (legs, log
 * device) are per guest and are not compared.
 *
 * During I/O the same status comparison is made on rounds of `dmsetup status` polled from every node, outside
 * the windows of faults that may legitimately change membership or the log (the adapter leaves those out). A
 * round is judged only when no node's status changed since the round before: while a resync advances, nodes
 * legitimately see different moments; a disagreement that holds still between two polls does not.
 */
import { lastCmirrordDump, bitSet, type CmirrordLogState } from '../cmirrord-dump.ts';
import { ranges } from '../disk-log.ts';
import { describeLog, LEG_HEALTH, parseDmStatus, type MirrorStatus } from '../dm-status.ts';
import { safeCheck, verdictFrom, type Finding, type Verdict } from '../verdict.ts';

export const INVARIANT = 'nodes-agree';

export interface NodesAgreeInput {
  /** `dmsetup status` output of every node, raw. */
  statuses: Array<{ node: number; text: string }>;
  /** cmirrord's log output of every node containing a SIGUSR1 dump; the last dump in each is compared. */
  dumps?: Array<{ node: number; text: string }>;
  /** Each mirror's log UUID by dm name, to pair a node's status with its own dump. */
  uuids?: Record<string, string>;
  /** `dmsetup status` of every live node polled during I/O, oldest first, outside fault windows. */
  rounds?: Array<{ ms: number; statuses: Array<{ node: number; text: string }> }>;
  /**
   * Rounds for following each node's sync count, and the windows they leave out, in which the count may go
   * down (a reload constructs the log again, a failed leg or a departed node's marks take regions out of
   * sync): two rounds on either side of one are not compared.
   */
  progress?: { rounds: NonNullable<NodesAgreeInput['rounds']>; windows: Array<{ fromMs: number; toMs: number }> };
  /**
   * No fault made a leg or the log device fail: a node that reports one failed ('D' or another error
   * state) is wrong about the mirror, even if every node says the same.
   */
  devicesHealthy?: boolean;
}

/** Regions listed in a finding before the rest are only counted. */
const SHOWN_REGIONS = 16;

function statusFindings(statuses: NodesAgreeInput['statuses']): Finding[] {
  const perNode = statuses.map((s) => ({ node: s.node, mirrors: new Map(parseDmStatus(s.text).map((m) => [m.name, m])) }));
  const names = [...new Set(perNode.flatMap((p) => [...p.mirrors.keys()]))].sort();
  const findings: Finding[] = [];
  const aspects: Array<[string, (m: MirrorStatus) => string]> = [
    ['SYNCED/REGIONS', (m) => `${m.synced}/${m.regions}`],
    ['leg health', (m) => m.legs.map((l) => l.health).join('')],
    ['log state', (m) => describeLog(m.log)],
  ];
  for (const name of names) {
    const label = name ? `mirror ${name}` : 'mirror';
    const missing = perNode.filter((p) => !p.mirrors.has(name)).map((p) => `node${p.node}`);
    if (missing.length) {
      findings.push({ kind: 'mirror-missing', nodes: missing, message: `${label}: absent from dmsetup status on ${missing.join(', ')}` });
    }
    const present = perNode.flatMap((p) => (p.mirrors.has(name) ? [{ node: p.node, m: p.mirrors.get(name)! }] : []));
    for (const [aspect, value] of aspects) {
      const groups = new Map<string, number[]>();
      for (const { node, m } of present) groups.set(value(m), [...(groups.get(value(m)) ?? []), node]);
      if (groups.size < 2) continue;
      const parts = [...groups].map(([v, nodes]) => `${nodes.map((n) => `node${n}`).join(', ')} ${v}`);
      findings.push({
        kind: 'status-differs',
        nodes: present.map((p) => `node${p.node}`),
        message: `${label}: ${aspect} differs across nodes: ${parts.join('; ')}`,
      });
    }
  }
  return findings;
}

/** Regions where two bitsets differ, within the first `count` regions. */
function differing(a: Uint8Array, b: Uint8Array, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) if (bitSet(a, i) !== bitSet(b, i)) out.push(i);
  return out;
}

function countSet(bits: Uint8Array, count: number): number {
  let n = 0;
  for (let i = 0; i < count; i++) if (bitSet(bits, i)) n++;
  return n;
}

function describeRegions(regions: number[]): string {
  const shown = ranges(regions.slice(0, SHOWN_REGIONS));
  return regions.length > SHOWN_REGIONS ? `${shown},... (${regions.length} regions)` : shown;
}

function dumpFindings(dumps: NonNullable<NodesAgreeInput['dumps']>): Finding[] {
  const perNode = dumps.map((d) => ({ node: d.node, logs: new Map(lastCmirrordDump(d.text).logs.map((l) => [l.uuid, l])) }));
  const uuids = [...new Set(perNode.flatMap((p) => [...p.logs.keys()]))].sort();
  const findings: Finding[] = [];
  for (const uuid of uuids) {
    const present = perNode.flatMap((p) => (p.logs.has(uuid) ? [{ node: p.node, log: p.logs.get(uuid)! }] : []));
    const missing = perNode.filter((p) => !p.logs.has(uuid)).map((p) => `node${p.node}`);
    const short = present[0]!.log.short;
    if (missing.length) {
      findings.push({ kind: 'log-missing', nodes: missing, message: `log ${short}: not in the cmirrord dump of ${missing.join(', ')}` });
    }
    const ref = present[0]!;
    const regions = (l: CmirrordLogState) => l.regionCount ?? Math.max(l.syncBits.length, l.cleanBits.length) * 8;
    for (const { node, log } of present) {
      // clog_get_sync_count answers the kernel with sync_count, kept by hand beside sync_bits: the two must agree.
      if (log.pending || log.syncCount === undefined || log.regionCount === undefined) continue;
      const set = countSet(log.syncBits, log.regionCount);
      if (set === log.syncCount) continue;
      findings.push({
        kind: 'dump-inconsistent',
        nodes: [`node${node}`],
        message: `log ${short} on node${node}: sync_count ${log.syncCount}, but ${set} of its ${log.regionCount} regions are set in sync_bits`,
      });
    }
    for (const other of present.slice(1)) {
      const count = Math.min(regions(ref.log), regions(other.log));
      const pair = [`node${ref.node}`, `node${other.node}`];
      if (regions(ref.log) !== regions(other.log)) {
        findings.push({
          kind: 'dump-differs',
          nodes: pair,
          message: `log ${short}: region count differs: node${ref.node} ${regions(ref.log)}, node${other.node} ${regions(other.log)}`,
        });
      }
      if (ref.log.syncCount !== other.log.syncCount) {
        findings.push({
          kind: 'dump-differs',
          nodes: pair,
          message: `log ${short}: sync_count differs: node${ref.node} ${ref.log.syncCount ?? '(pending)'}, node${other.node} ${other.log.syncCount ?? '(pending)'}`,
        });
      }
      for (const which of ['syncBits', 'cleanBits'] as const) {
        const diff = differing(ref.log[which], other.log[which], count);
        if (!diff.length) continue;
        const name = which === 'syncBits' ? 'sync_bits' : 'clean_bits';
        const set = (l: CmirrordLogState, i: number) => (bitSet(l[which], i) ? 1 : 0);
        findings.push({
          kind: 'bitmap-differs',
          region: diff[0]!,
          nodes: pair,
          message:
            `log ${short}: ${name} differ between node${ref.node} and node${other.node} in regions ${describeRegions(diff)}` +
            ` (region ${diff[0]}: node${ref.node} ${set(ref.log, diff[0]!)}, node${other.node} ${set(other.log, diff[0]!)})`,
        });
      }
    }
  }
  return findings;
}

/** A node's kernel sync count against the sync_count its own cmirrord dumped, per mirror. */
function ownDumpFindings(statuses: NodesAgreeInput['statuses'], dumps: NonNullable<NodesAgreeInput['dumps']>, uuids: Record<string, string>): Finding[] {
  const findings: Finding[] = [];
  for (const s of statuses) {
    const dump = dumps.find((d) => d.node === s.node);
    if (!dump) continue;
    const logs = new Map(lastCmirrordDump(dump.text).logs.map((l) => [l.uuid, l]));
    for (const m of parseDmStatus(s.text)) {
      const log = logs.get(uuids[m.name] ?? '');
      if (!log || log.syncCount === undefined || m.log.kind === 'com-failure') continue;
      if (log.syncCount !== m.synced) {
        findings.push({
          kind: 'status-contradicts-dump',
          nodes: [`node${s.node}`],
          mirror: m.name,
          message: `mirror ${m.name} on node${s.node}: dmsetup status says ${m.synced}/${m.regions} in sync, its cmirrord's dump sync_count ${log.syncCount}`,
        });
      }
    }
  }
  return findings;
}

/** Legs or log devices a node reports failed although nothing made them fail. */
function healthFindings(statuses: NodesAgreeInput['statuses'], when: string): Finding[] {
  const findings: Finding[] = [];
  for (const s of statuses) {
    for (const m of parseDmStatus(s.text)) {
      const legs = m.legs.flatMap((l, i) => (l.health === 'A' ? [] : [`leg ${i} ${l.health} (${LEG_HEALTH[l.health]})`]));
      const log = m.log.kind === 'disk' && m.log.health !== 'A' ? [`log device ${m.log.health}`] : [];
      if (legs.length + log.length === 0) continue;
      findings.push({
        kind: 'failed-without-fault',
        nodes: [`node${s.node}`],
        mirror: m.name,
        message: `${when}mirror ${m.name} on node${s.node} reports ${[...legs, ...log].join(', ')} although no fault made a device fail`,
      });
    }
  }
  return findings;
}

/** Status rounds during I/O whose every node stood still since the round before, and what they disagreed on. */
function roundFindings(rounds: NonNullable<NodesAgreeInput['rounds']>, devicesHealthy: boolean): { judged: number; findings: Finding[] } {
  const findings: Finding[] = [];
  const seen = new Map<string, { finding: Finding; first: number; last: number; count: number }>();
  let judged = 0;
  let previous: Map<number, string> | undefined;
  for (const round of rounds) {
    const now = new Map(round.statuses.map((s) => [s.node, s.text.trim()]));
    const still = previous !== undefined && round.statuses.length >= 2 && [...now].every(([node, text]) => previous!.get(node) === text);
    previous = now;
    if (!still) continue;
    judged++;
    for (const f of [...statusFindings(round.statuses), ...(devicesHealthy ? healthFindings(round.statuses, '') : [])]) {
      const entry = seen.get(f.message);
      if (entry) {
        entry.last = round.ms;
        entry.count++;
      } else seen.set(f.message, { finding: f, first: round.ms, last: round.ms, count: 1 });
    }
  }
  for (const { finding, first, last, count } of seen.values()) {
    const when = count === 1 ? `at +${(first / 1000).toFixed(1)}s` : `from +${(first / 1000).toFixed(1)}s to +${(last / 1000).toFixed(1)}s (${count} rounds)`;
    findings.push({ ...finding, kind: 'status-differs-during-io', message: `during I/O ${when}: ${finding.message}` });
  }
  return { judged, findings };
}

/**
 * A node's sync count going down between two rounds with no window between them: outside a reload, a failed
 * device or a membership change, regions only come into sync (resync, recovery) and leave it on nothing.
 */
function regressionFindings({ rounds, windows }: NonNullable<NodesAgreeInput['progress']>): Finding[] {
  const last = new Map<string, { ms: number; synced: number; regions: number }>();
  const findings: Finding[] = [];
  for (const round of rounds) {
    for (const s of round.statuses) {
      for (const m of parseDmStatus(s.text)) {
        const key = `${s.node}/${m.name}`;
        const before = last.get(key);
        last.set(key, { ms: round.ms, synced: m.synced, regions: m.regions });
        if (!before || before.regions !== m.regions) continue;
        if (windows.some((w) => w.fromMs <= round.ms && w.toMs >= before.ms) || m.synced >= before.synced) continue;
        findings.push({
          kind: 'resync-went-back',
          nodes: [`node${s.node}`],
          mirror: m.name,
          message: `mirror ${m.name || '(unnamed)'} on node${s.node}: in sync ${before.synced}/${m.regions} at +${(before.ms / 1000).toFixed(1)}s, then ${m.synced}/${m.regions} at +${(round.ms / 1000).toFixed(1)}s, with no reload, fault or membership change between`,
        });
      }
    }
  }
  return findings;
}

export function nodesAgree(input: NodesAgreeInput): Verdict {
  if (input.statuses.length < 2) throw new Error(`need the status of at least two nodes, got ${input.statuses.length}`);
  const during = roundFindings(input.rounds ?? [], input.devicesHealthy ?? false);
  const wentBack = regressionFindings(input.progress ?? { rounds: [], windows: [] });
  const findings = [
    ...statusFindings(input.statuses),
    ...(input.devicesHealthy ? healthFindings(input.statuses, '') : []),
    ...(input.dumps ? dumpFindings(input.dumps) : []),
    ...(input.dumps && input.uuids ? ownDumpFindings(input.statuses, input.dumps, input.uuids) : []),
    ...during.findings,
    ...wentBack,
  ];
  const nodes = input.statuses.map((s) => `node${s.node}`).join(', ');
  const what = `${input.dumps ? 'dmsetup status and cmirrord dumps' : 'dmsetup status'}${input.rounds ? `, and ${during.judged} status rounds during I/O` : ''}`;
  return verdictFrom(INVARIANT, findings, `${nodes} agree in ${what}`, `across ${nodes} in ${what}`, [
    { n: input.statuses.length, what: 'nodes' },
    { n: input.dumps?.length ?? 0, what: 'cmirrord dumps' },
    { n: during.judged, what: 'status rounds during I/O' },
  ]);
}

export const checkNodesAgree = (input: NodesAgreeInput) => safeCheck(INVARIANT, () => nodesAgree(input));

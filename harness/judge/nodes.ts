/**
 * nodes-agree, kernel-clean, single-writer, marked-before-write, one-recovery-at-a-time, requests-answered and no-hang: what the nodes said about themselves
 * (statuses, dumps, kernel logs and their traces), and the deadlines.
 */
import { faultSpec } from '../case/fault-kinds.ts';
import { DM_ULOG_RETRY_TIMEOUT_MS } from '../case/schema.ts';
import { checkInvalidTablesRefused } from '../oracle/checks/invalid-tables-refused.ts';
import { checkKernelClean } from '../oracle/checks/kernel-clean.ts';
import { checkMarkedBeforeWrite } from '../oracle/checks/marked-before-write.ts';
import { checkNodesAgree } from '../oracle/checks/nodes-agree.ts';
import { checkOneRecoveryAtATime } from '../oracle/checks/one-recovery-at-a-time.ts';
import { checkRequestsAnswered } from '../oracle/checks/requests-answered.ts';
import { checkSingleWriter, type LogWrites, type Membership } from '../oracle/checks/single-writer.ts';
import { verdictFrom, type Finding, type Verdict } from '../oracle/verdict.ts';
import type { Point } from '../record/layout.ts';
import type { CaseRecord } from '../record/read.ts';

/** Rounds of status polled during I/O on every live node, outside `windows`. */
function statusRounds(rec: CaseRecord, point: Point, windows: ReturnType<CaseRecord['disturbedWindows']>) {
  const byRound = new Map<number, { ms: number; statuses: Array<{ node: number; text: string }> }>();
  for (const p of rec.polls(point)) {
    if (p.status === undefined || !/ mirror /.test(p.status)) continue;
    const round = byRound.get(p.round) ?? { ms: p.ms, statuses: [] };
    round.statuses.push({ node: p.node, text: p.status });
    byRound.set(p.round, round);
  }
  return [...byRound.values()].filter((r) => !windows.some((w) => r.ms >= w.fromMs && r.ms <= w.toMs));
}

/** A file each node live at the point left there (its status or its cmirrord dump), by node. */
function liveNodeFiles(rec: CaseRecord, point: Point, what: 'status' | 'dump'): Array<{ node: number; text: string }> {
  return rec.evidence(point).live.flatMap((node) => {
    const text = rec.nodeFile(point, what, node);
    return text === undefined ? [] : [{ node, text }];
  });
}

export async function nodesAgree(rec: CaseRecord, point: Point): Promise<Verdict> {
  const dumps = liveNodeFiles(rec, point, 'dump');
  const dropWindows = rec.syncDropWindows(point);
  return checkNodesAgree({
    statuses: liveNodeFiles(rec, point, 'status'),
    ...(dumps.length ? { dumps } : {}),
    uuids: Object.fromEntries(rec.mirrors.map((m, i) => [m.name, rec.uuids[i]!])),
    rounds: statusRounds(rec, point, rec.disturbedWindows(point)),
    progress: { rounds: statusRounds(rec, point, dropWindows), windows: dropWindows },
    devicesHealthy: rec.faultsStartedWith(point, 'failsDevice').length === 0,
  });
}

/** The malformed tables the case tried, and the dumps of the nodes live at the point. */
export async function invalidTablesRefused(rec: CaseRecord, point: Point): Promise<Verdict> {
  return checkInvalidTablesRefused({ loads: rec.invalidTables(point), dumps: liveNodeFiles(rec, point, 'dump') });
}

export async function kernelClean(rec: CaseRecord, point: Point): Promise<Verdict> {
  // Every node, live or not: a crashed node's kernel log up to the crash is its serial console's.
  const logs = Array.from({ length: rec.case.topology.nodes }, (_, i) => i + 1).flatMap((node) => {
    const dmesg = rec.nodeFile(point, 'kernel', node);
    return dmesg === undefined ? [] : [{ node, dmesg }];
  });
  return checkKernelClean({ logs, expected: rec.case.expectKernelMessages });
}

/** Each live node's kernel log of its current boot, with its trace: a crashed node's is lost with its ring buffer. */
function liveKernelLogs(rec: CaseRecord, point: Point): Array<{ node: number; dmesg: string }> {
  return rec.evidence(point).live.flatMap((node) => {
    const dmesg = rec.nodeFile(point, 'kernel', node);
    return dmesg === undefined ? [] : [{ node, dmesg }];
  });
}

function mirrorNamesByUuid(rec: CaseRecord): Record<string, string> {
  return Object.fromEntries(rec.uuids.map((u, i) => [u, rec.mirrors[i]!.name]));
}

/** The request and leg-write trace in each live node's kernel log. */
export async function markedBeforeWrite(rec: CaseRecord, point: Point): Promise<Verdict> {
  return checkMarkedBeforeWrite({ logs: liveKernelLogs(rec, point), mirrors: mirrorNamesByUuid(rec) });
}

/**
 * Every live node's recoveries on one timeline. A node that a fault took out of the log's group (its daemon
 * or corosync killed, the node fenced, paused or cut off), or that left the ring on its own, may have had
 * its recovery ended by the others without a line of its own: it is not judged.
 */
export async function oneRecoveryAtATime(rec: CaseRecord, point: Point): Promise<Verdict> {
  const departed = new Map<number, string>();
  const everyNode = Array.from({ length: rec.case.topology.nodes }, (_, i) => i + 1);
  for (const flag of ['fences', 'leavesRing', 'splits'] as const) {
    for (const f of rec.faultsStartedWith(point, flag)) for (const node of f.nodes.length ? f.nodes : everyNode) if (!departed.has(node)) departed.set(node, f.fault);
  }
  for (const e of rec.unplannedEvictions()) if (!departed.has(e.node)) departed.set(e.node, 'left the ring unplanned');
  return checkOneRecoveryAtATime({
    logs: liveKernelLogs(rec, point),
    mirrors: mirrorNamesByUuid(rec),
    clockSkewNs: rec.clockSkewNs(point),
    departed: [...departed].map(([node, why]) => ({ node, why })),
  });
}

/**
 * The transfer layer's timeouts in each live node's kernel log, unless the case ran a fault that may delay any
 * answer; a fault that holds only its own nodes' answers (a killed daemon) leaves those nodes out.
 */
export async function requestsAnswered(rec: CaseRecord, point: Point): Promise<Verdict> {
  const delaying = rec.faultsStartedWith(point, 'delaysAnswers');
  const ownOnly = (f: (typeof delaying)[number]) => f.fault !== 'heal-all' && faultSpec(f.fault).delaysOwnAnswersOnly;
  const excusedBy: string[] = delaying.filter((f) => !ownOnly(f)).map((f) => f.fault);
  const excusedNodes = delaying.filter(ownOnly).flatMap((f) => f.nodes.map((node) => ({ node, why: f.fault })));
  // A shorter timeout than the kernel's own is there to let a lost request be sent again sooner; a slow answer then times out too.
  const retry = rec.case.topology.logRetryTimeoutMs;
  if (retry < DM_ULOG_RETRY_TIMEOUT_MS) excusedBy.push(`log-retry-timeout ${retry / 1000}s`);
  return checkRequestsAnswered({ logs: liveKernelLogs(rec, point), mirrors: mirrorNamesByUuid(rec), excusedBy, excusedNodes });
}

/**
 * Each node's view of each log's CPG group and its log device write counters, from the polls; a node the
 * harness took out sees no group from then on.
 */
export async function singleWriter(rec: CaseRecord, point: Point): Promise<Verdict> {
  const memberships: Membership[] = [];
  const logWrites: LogWrites[] = [];
  for (const p of rec.polls(point)) {
    for (const group of rec.uuids) {
      memberships.push({ node: p.node, t: p.ms, group, members: p.daemon ? p.groups[group] ?? [] : [] });
      const writes = p.logWrites[group];
      if (writes !== undefined) logWrites.push({ node: p.node, t: p.ms, group, writes });
    }
  }
  for (const f of rec.faultsStartedWith(point, 'fences')) {
    for (const node of f.nodes) for (const group of rec.uuids) memberships.push({ node, t: f.ms, group, members: [] });
  }
  const hasLog = rec.mirrors.some((m) => m.log);
  return checkSingleWriter({ memberships, ...(hasLog ? { logWrites } : {}), fenced: rec.fencedNodes(point), unsettled: rec.disturbedWindows(point) });
}

export async function noHang(rec: CaseRecord, point: Point): Promise<Verdict> {
  const findings: Finding[] = rec.hangs(point).map((h) => ({ kind: 'hang', message: h.what }));
  const steps = rec.stepsRun(point);
  return verdictFrom('no-hang', findings, `${steps} steps finished within their deadlines`, 'of a deadline', [{ n: steps, what: 'steps' }]);
}

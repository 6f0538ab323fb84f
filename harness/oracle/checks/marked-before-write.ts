/**
 * Invariant 1 (dirty before write) as a history, kernel side: dm-raid1 sends a data write in region r to the legs only after the
 * log acknowledged a mark of r and then a flush, with no clear of r acknowledged in between. Sampling the log
 * device sees a broken promise only when a freeze lands in its window; the trace sees every write.
 *
 * The trace is what kernel-patches/dm-log-userspace-trace-param.patch prints at KERN_DEBUG when the guests boot
 * with dm_log_userspace.trace=1 dm_mirror.trace=1:
 *   dm-log-userspace trace: n=N uuid=U luid=L seq=S type=T r=R size=B req=W,W,... rep=W,...
 *   dm-raid1 trace: n=N log=L write region=R sectors=K legs=M
 * (one line per log request after its final answer; one per data write dm-raid1 sends, from do_write). L, the
 * dirty log's context pointer, is the luid of that log's requests. Each source counts its lines from 1, so a
 * node whose ring buffer dropped lines is seen, and not judged, instead of judged on half a history.
 *
 * What counts as the promise, from Linux 6.1 drivers/md: userspace_flush (dm-log-userspace-base.c) sends the
 * queued CLEAR_REGION groups, then MARK_REGION groups, then FLUSH (or, with integrated_flush, FLUSH carrying
 * the marks); do_writes (dm-raid1.c) calls dm_rh_flush before do_write for regions in sync and, with
 * handle_errors, holds the writes when that flush failed. A region already DIRTY is not marked again, so its
 * earlier mark and flush still cover it. Writes to regions out of sync go to the default leg only, outside
 * do_write: they need no mark and are not traced. Where the trace cannot say (a mark or clear list cut short in
 * its line), the check assumes the log kept its promise: it never cries wolf on a line it could not read.
 */
import { safeCheck, verdictFrom, type Finding, type Verdict } from '../verdict.ts';

export const INVARIANT = 'marked-before-write';

export interface MarkedBeforeWriteInput {
  /** Each live node's kernel log of its current boot (`dmesg`), whole. */
  logs: Array<{ node: number; dmesg: string }>;
  /** Mirror name by log UUID, to name the mirror in a finding. */
  mirrors: Record<string, string>;
}

const ULOG = /dm-log-userspace trace: n=(\d+) uuid=(\S+) luid=([0-9a-f]+) seq=(\d+) type=(\S+) r=(-?\d+) size=\d+ req=(\S+) rep=(\S+)/;
const RAID1 = /dm-raid1 trace: n=(\d+) log=([0-9a-f]+) write region=(\d+) sectors=\d+ legs=\d+/;

export type TraceLine =
  /** seq: the transfer layer's sequence number, in the order the node sent its requests (a resent request gets a new one). */
  /** regions: the request's words (regions, or region and flag); reply: the answer's words, where it fits in the line. */
  | { source: 'ulog'; n: number; line: number; uuid: string; luid: string; seq: number; type: string; r: number; regions: number[]; truncated: boolean; reply: number[] }
  | { source: 'raid1'; n: number; line: number; luid: string; region: number };

/** The trace lines of one dmesg, in the order the kernel logged them (line numbers from 1). */
export function parseTrace(dmesg: string): TraceLine[] {
  const out: TraceLine[] = [];
  dmesg.split('\n').forEach((text, i) => {
    const u = ULOG.exec(text);
    if (u) {
      const words = u[7]! === '-' ? [] : u[7]!.split(',');
      const truncated = words.at(-1) === '...';
      const regions = (truncated ? words.slice(0, -1) : words).map(Number);
      const reply = u[8]! === '-' ? [] : u[8]!.split(',').filter((w) => w !== '...').map(Number);
      out.push({ source: 'ulog', n: Number(u[1]), line: i + 1, uuid: u[2]!, luid: u[3]!, seq: Number(u[4]), type: u[5]!, r: Number(u[6]), regions, truncated, reply });
      return;
    }
    const w = RAID1.exec(text);
    if (w) out.push({ source: 'raid1', n: Number(w[1]), line: i + 1, luid: w[2]!, region: Number(w[3]) });
  });
  return out;
}

/** Why a source's lines cannot be judged (lines missing from its count), or undefined when whole. */
export function traceGap(lines: TraceLine[], source: TraceLine['source']): string | undefined {
  const ns = lines.filter((l) => l.source === source).map((l) => l.n).sort((a, b) => a - b);
  for (let i = 0; i < ns.length; i++) {
    if (ns[i] !== i + 1) return `the ${source === 'ulog' ? 'dm-log-userspace' : 'dm-raid1'} trace misses line n=${i + 1} (ring buffer full?)`;
  }
  return undefined;
}

/** What the log has promised about one region of one log instance. */
interface RegionState {
  /** dmesg line of the acknowledged mark. */
  markedAt: number;
  /** dmesg line of the acknowledged flush after it, if any. */
  flushedAt?: number;
}

interface LogState {
  uuid: string;
  regions: Map<number, RegionState>;
  /** A mark list the trace cut short: every region counts as marked from then on (never cry wolf). */
  markedUnknownAt?: number;
  unknownFlushed?: boolean;
  /** Lines of the last acknowledged clear of each region, to say why a write was not covered. */
  clearedAt: Map<number, number>;
}

function judgeNode(node: number, lines: TraceLine[], mirrors: Record<string, string>, findings: Finding[]) {
  const logs = new Map<string, LogState>();
  let writes = 0;
  let requests = 0;
  let unknownLog = 0;
  // MARK_REGION requests since each log's last FLUSH: flush_by_group sends at most 32 regions a request,
  // so more than one before a flush shows a kmirrord pass that marked more regions than one request holds.
  const marksSinceFlush = new Map<string, number>();
  let mostMarkRequests = 0;
  for (const l of lines) {
    if (l.source === 'ulog') {
      requests++;
      if (l.type === 'MARK_REGION') marksSinceFlush.set(l.luid, (marksSinceFlush.get(l.luid) ?? 0) + 1);
      if (l.type === 'FLUSH') {
        mostMarkRequests = Math.max(mostMarkRequests, marksSinceFlush.get(l.luid) ?? 0);
        marksSinceFlush.set(l.luid, 0);
      }
      let log = logs.get(l.luid);
      if (l.type === 'CTR' || !log) {
        // A new log instance: the kernel may reuse a freed instance's address, and so its luid.
        log = { uuid: l.uuid, regions: new Map(), clearedAt: new Map() };
        logs.set(l.luid, log);
      }
      if (l.r !== 0) continue;
      if (l.type === 'MARK_REGION' || (l.type === 'FLUSH' && l.regions.length > 0)) {
        // A region marked again while its earlier mark and flush still hold stays covered.
        for (const region of l.regions) if (log.regions.get(region)?.flushedAt === undefined) log.regions.set(region, { markedAt: l.line });
        if (l.truncated) {
          log.markedUnknownAt = l.line;
          log.unknownFlushed = false;
        }
      }
      if (l.type === 'FLUSH') {
        for (const s of log.regions.values()) s.flushedAt ??= l.line;
        if (log.markedUnknownAt !== undefined) log.unknownFlushed = true;
      }
      if (l.type === 'CLEAR_REGION' && !l.truncated) {
        for (const region of l.regions) {
          log.regions.delete(region);
          log.clearedAt.set(region, l.line);
        }
      }
      continue;
    }
    const log = logs.get(l.luid);
    if (!log) {
      unknownLog++;
      continue;
    }
    writes++;
    const s = log.regions.get(l.region);
    if (s?.flushedAt !== undefined || log.unknownFlushed) continue;
    const mirror = mirrors[log.uuid] ?? log.uuid;
    const cleared = log.clearedAt.get(l.region);
    const why = s
      ? `its mark (dmesg line ${s.markedAt}) was never followed by an acknowledged FLUSH`
      : cleared !== undefined
        ? `it was cleared (dmesg line ${cleared}) and not marked again`
        : 'it was never marked since the log was constructed';
    findings.push({
      kind: 'unmarked-write',
      region: l.region,
      mirror,
      nodes: [`node${node}`],
      message: `node${node}: ${mirror} region ${l.region}: data write sent to the legs (dmesg line ${l.line}, dm-raid1 trace n=${l.n}) but ${why}`,
    });
  }
  return { writes, requests, unknownLog, mostMarkRequests };
}

export function markedBeforeWrite(input: MarkedBeforeWriteInput): Verdict {
  const findings: Finding[] = [];
  const notes: string[] = [];
  let writes = 0;
  let requests = 0;
  let judgedNodes = 0;
  let traced = 0;
  let mostMarkRequests = 0;
  for (const { node, dmesg } of input.logs) {
    const lines = parseTrace(dmesg);
    if (lines.length === 0) {
      notes.push(`node${node}: no trace lines`);
      continue;
    }
    traced++;
    const why = traceGap(lines, 'ulog') ?? traceGap(lines, 'raid1');
    if (why) {
      notes.push(`node${node} not judged: ${why}`);
      continue;
    }
    const got = judgeNode(node, lines, input.mirrors, findings);
    judgedNodes++;
    writes += got.writes;
    requests += got.requests;
    mostMarkRequests = Math.max(mostMarkRequests, got.mostMarkRequests);
    if (got.unknownLog) notes.push(`node${node}: ${got.unknownLog} writes to a log with no request in the trace, not judged`);
  }
  if (traced === 0) {
    return {
      valid: 'unknown',
      invariant: INVARIANT,
      detail: `no node's kernel log has a dm-log-userspace or dm-raid1 trace line (a kernel without kernel-patches/dm-log-userspace-trace-param.patch, or booted without dm_log_userspace.trace=1 dm_mirror.trace=1)`,
      findings: [],
      judged: [],
    };
  }
  const v = verdictFrom(
    INVARIANT,
    findings,
    `${writes} leg writes on ${judgedNodes} nodes each came after an acknowledged mark and flush of its region; at most ${mostMarkRequests} MARK_REGION requests before one FLUSH${notes.length ? `; ${notes.join('; ')}` : ''}`,
    `of ${writes} leg writes traced on ${judgedNodes} nodes`,
    [{ n: writes, what: 'traced leg writes' }, { n: requests, what: 'log requests' }, { n: judgedNodes, what: 'nodes' }],
  );
  return v.valid === false && notes.length ? { ...v, detail: `${v.detail}\n${notes.join('\n')}` } : v;
}

export const checkMarkedBeforeWrite = (input: MarkedBeforeWriteInput) => safeCheck(INVARIANT, () => markedBeforeWrite(input));

/**
 * Liveness of the log protocol: every request a node's kernel sends its log daemon is answered before the
 * transfer layer stops waiting. dm-log-userspace-transfer.c:dm_consult_userspace waits for an answer for its
 * retry timeout (15 s, or the case's `log-retry-timeout:`), then logs
 *   device-mapper: dm-log-userspace: [SHORT-UUID] Request timed out: [TYPE/SEQ] - retrying
 * and sends the request again under a new sequence number. Whoever called (kmirrord, a `dmsetup` that
 * suspends, resumes or replaces the table) waits all that time; a request the daemon dropped costs the
 * timeout every time.
 *
 * A late answer is legitimate while a fault holds the daemon, its node or the cluster's messages (the fault
 * kinds with `delaysAnswers`), so a case that runs one is not judged: the check then judges nothing, and a
 * case that lists it would be inconclusive. kernel-clean leaves these lines alone for the same reason. A
 * daemon killed or started again (`delaysOwnAnswersOnly`) excuses its own node's timeouts only: the
 * others' requests go to the next server (bug 15: those a killed server left unanswered waited 15 s).
 *
 * Where the node's trace (kernel-patches/dm-log-userspace-trace-param.patch) shows that the request was sent
 * after the same log's POSTSUSPEND, the finding says so: by then cmirrord has left the log's CPG, and
 * cluster.c:cpg_leave_callback answers only the POSTSUSPEND of the requests still waiting (bug 11).
 */
import { parseTrace, traceGap } from './marked-before-write.ts';
import { safeCheck, unknownVerdict, verdictFrom, type Finding, type Verdict } from '../verdict.ts';

export const INVARIANT = 'requests-answered';

export interface RequestsAnsweredInput {
  /** Each live node's kernel log of its current boot (`dmesg`), whole. */
  logs: Array<{ node: number; dmesg: string }>;
  /** Mirror name by log UUID, to name the mirror in a finding. */
  mirrors: Record<string, string>;
  /** The faults of the case that may hold any answer past the timeout; any makes the check judge nothing. */
  excusedBy: string[];
  /** Nodes whose own answers a fault may hold (its daemon killed or started again), each with the fault: not judged. */
  excusedNodes?: Array<{ node: number; why: string }>;
}

/** include/uapi/linux/dm-log-userspace.h, by number. */
const ULOG_REQUEST_TYPES = [
  '', 'CTR', 'DTR', 'PRESUSPEND', 'POSTSUSPEND', 'RESUME', 'GET_REGION_SIZE', 'IS_CLEAN', 'IN_SYNC', 'FLUSH', 'MARK_REGION',
  'CLEAR_REGION', 'GET_RESYNC_WORK', 'SET_REGION_SYNC', 'GET_SYNC_COUNT', 'STATUS_INFO', 'STATUS_TABLE', 'IS_REMOTE_RECOVERING',
] as const;

const TIMED_OUT = /dm-log-userspace: \[(\S+)\] Request timed out: \[(\d+)\/(\d+)\] - retrying/;
const TIMESTAMP = /^\s*\[\s*(\d+\.\d+)\]/;

function typeName(n: number): string {
  return ULOG_REQUEST_TYPES[n] || `type ${n}`;
}

export function requestsAnswered(input: RequestsAnsweredInput): Verdict {
  if (input.excusedBy.length) {
    const kinds = [...new Set(input.excusedBy)].join(', ');
    return unknownVerdict(INVARIANT, `not judged: the case ran ${kinds}, which may hold an answer past the timeout`);
  }
  const findings: Finding[] = [];
  const partial: string[] = [];
  let answered = 0;
  const excusedNodes = new Map((input.excusedNodes ?? []).map((e) => [e.node, e.why]));
  const notJudged = [...excusedNodes].filter(([node]) => input.logs.some((l) => l.node === node)).map(([node, why]) => `node${node} (${why})`);
  for (const { node, dmesg } of input.logs.filter((l) => !excusedNodes.has(l.node))) {
    const lines = parseTrace(dmesg);
    const lost = traceGap(lines, 'ulog');
    // A timeout line is still seen when the trace lost lines; those lost with them are not, so say so.
    if (lost) partial.push(`node${node}: ${lost}`);
    const trace = lines.flatMap((l) => (l.source === 'ulog' ? [l] : []));
    answered += trace.length;
    dmesg.split('\n').forEach((text, i) => {
      const m = TIMED_OUT.exec(text);
      if (!m) return;
      const [short, type, seq] = [m[1]!, Number(m[2]), Number(m[3])];
      const uuid = Object.keys(input.mirrors).find((u) => u.endsWith(short));
      const mirror = uuid ? input.mirrors[uuid] : undefined;
      const at = TIMESTAMP.exec(text)?.[1];
      // The log's last POSTSUSPEND answered before the timeout: one sent while this request waited, or one sent
      // before it with no RESUME of the log since (a reload's new table resumes under the same UUID), means
      // cmirrord left the group with it unanswered.
      const ofLog = trace.filter((l) => l.uuid.endsWith(short) && l.line < i + 1);
      const post = ofLog.filter((l) => l.type === 'POSTSUSPEND').at(-1);
      const resumed = post && post.seq < seq && ofLog.some((l) => l.type === 'RESUME' && l.seq > post.seq && l.seq < seq);
      const where = post && `(seq ${post.seq}, dmesg line ${post.line})`;
      const after = !post || resumed ? '' : post.seq < seq ? `; sent after its log's POSTSUSPEND ${where}, when cmirrord had left or was leaving the log's group` : `; its log's POSTSUSPEND ${where} went out while it waited, and cmirrord left the log's group with it unanswered`;
      findings.push({
        kind: 'request-timed-out',
        ...(mirror ? { mirror } : {}),
        nodes: [`node${node}`],
        message: `node${node}${mirror ? ` ${mirror}` : ''}: ${typeName(type)} seq ${seq} of log [${short}] went unanswered for the whole retry timeout (dmesg line ${i + 1}${at ? `, ${at} s` : ''})${after}`,
      });
    });
  }
  const nodes = input.logs.length - notJudged.length;
  return verdictFrom(
    INVARIANT,
    findings,
    `${answered} log requests on ${nodes} node${nodes === 1 ? '' : 's'}, none left waiting for the retry timeout${partial.length ? ` (timeouts in lost lines unseen: ${partial.join('; ')})` : ''}${notJudged.length ? `; not judged: ${notJudged.join(', ')}` : ''}`,
    `in ${nodes} node${nodes === 1 ? '' : 's'}' kernel logs`,
    [{ n: answered, what: 'traced log requests' }, { n: nodes, what: 'nodes' }],
  );
}

export async function checkRequestsAnswered(input: RequestsAnsweredInput): Promise<Verdict> {
  return safeCheck(INVARIANT, () => requestsAnswered(input));
}

/**
 * One recovery at a time: cmirrord hands out resync work to one member at a time, cluster-wide. While a
 * member recovers a region (lvm2 functions.c:clog_get_resync_work sets lc->recovering_region and
 * lc->recoverer), a GET_RESYNC_WORK from another member gets no work ("Someone already recovering"); the
 * recovery ends with the recoverer's SET_REGION_SYNC for that region, or with the recoverer leaving the
 * log's group. Two members copying at once is how a region gets copied twice, and a write that lands
 * between the two copies is then copied over on the legs the second copy writes.
 *
 * From the trace (kernel-patches/dm-log-userspace-trace-param.patch; see marked-before-write.ts), each
 * node's recoveries: a GET_RESYNC_WORK answered "1,R" grants R, and the node's SET_REGION_SYNC "R,x" ends
 * it. A trace line is printed once its answer is in, so the log had granted R by the grant's line. The
 * SET that ends a recovery comes from the mirror's kmirrord worker (dm-region-hash.c dm_rh_update_states),
 * which sends its requests one at a time, each after the last one's answer; and these come from kmirrord
 * alone (Linux 6.1): GET_RESYNC_WORK (do_recovery), IS_REMOTE_RECOVERING (do_writes), IN_SYNC that may
 * block (do_reads, do_writes; the map path never blocks, so never asks), MARK_REGION and CLEAR_REGION
 * (userspace_flush, from dm_rh_flush and dm_rh_update_states), SET_REGION_SYNC (do_failures,
 * dm_rh_update_states). FLUSH does not count: with integrated_flush a worker of dm-log-userspace sends
 * it too. So the log had not yet ended the recovery when the node's last such line before the SET was
 * printed: between the grant's line and that last line the node certainly held the recovery. Two nodes' spans that overlap by
 * more than the clocks' uncertainty (the guests' wall-clock skew, and how well each kernel log's clock is
 * tied to its wall clock: kernel-clock.ts) are two recoveries at once, whatever the timing of the rest.
 *
 * Not judged: a node whose daemon may have left the log's group without a clean suspend (killed, its
 * corosync killed, fenced, paused, cut off): the log ends such a member's recovery without a trace line.
 * Nor a node whose trace lost lines, nor one whose kernel log carries no clock mark.
 */
import { kernelClock, stampNs } from '../kernel-clock.ts';
import { parseTrace, traceGap, type TraceLine } from './marked-before-write.ts';
import { safeCheck, unknownVerdict, verdictFrom, type Finding, type Verdict } from '../verdict.ts';

export const INVARIANT = 'one-recovery-at-a-time';

export interface OneRecoveryInput {
  /** Each live node's kernel log of its current boot (`dmesg`), whole. */
  logs: Array<{ node: number; dmesg: string }>;
  /** Mirror name by log UUID, to name the mirror in a finding. */
  mirrors: Record<string, string>;
  /** How far apart the guests' wall clocks may have been (guest/cluster/clock.ts clockSkewNs). */
  clockSkewNs: number;
  /** Nodes whose daemon may have left the log's group uncleanly, each with the reason. */
  departed: Array<{ node: number; why: string }>;
}

/** One node's recovery of one region, on its wall clock. */
interface Recovery {
  node: number;
  uuid: string;
  region: number;
  grantLine: number;
  grantNs: number;
  /** The node's last kmirrord line before the recovery's end: the log still held the recovery then. */
  heldLine: number;
  heldNs: number;
  /** The SET_REGION_SYNC that ended it, if the trace has it. */
  endLine?: number;
  /** The clock's own uncertainty for this node. */
  errorNs: number;
}

/** A SET_REGION_SYNC on the common timeline: what may have made the log forget a recovery. */
interface SetLine {
  node: number;
  uuid: string;
  region: number;
  inSync: number;
  line: number;
  ns: number;
}

/** The requests only a mirror's kmirrord worker sends, one at a time (above). */
const KMIRRORD_ONLY = new Set(['GET_RESYNC_WORK', 'IS_REMOTE_RECOVERING', 'IN_SYNC', 'MARK_REGION', 'CLEAR_REGION', 'SET_REGION_SYNC']);

function recoveriesOf(node: number, dmesg: string, trace: readonly TraceLine[], offsetNs: number, errorNs: number): { recoveries: Recovery[]; sets: SetLine[] } {
  const text = dmesg.split('\n');
  const at = (line: number) => stampNs(text[line - 1]!)! + offsetNs;
  const recoveries: Recovery[] = [];
  const sets: SetLine[] = [];
  // The open recovery of each log instance (luid): each is its own mirror with its own kmirrord.
  const open = new Map<string, Recovery>();
  for (const l of trace) {
    if (l.source !== 'ulog' || stampNs(text[l.line - 1]!) === undefined) continue;
    const held = open.get(l.luid);
    if (l.type === 'SET_REGION_SYNC' && l.regions.length >= 2) {
      sets.push({ node, uuid: l.uuid, region: l.regions[0]!, inSync: l.regions[1]!, line: l.line, ns: at(l.line) });
      // Whatever its answer: a SET the log did not take could only make the recovery longer than counted.
      if (held && held.region === l.regions[0]) {
        recoveries.push({ ...held, endLine: l.line });
        open.delete(l.luid);
        continue;
      }
    }
    if (!KMIRRORD_ONLY.has(l.type)) continue;
    const granted = l.type === 'GET_RESYNC_WORK' && l.r === 0 && l.reply[0] === 1 && l.reply.length >= 2 ? l.reply[1]! : undefined;
    if (held && (granted === undefined || granted === held.region)) {
      // A request kmirrord sent while the recovery was on (a re-request of the same region among them).
      Object.assign(held, { heldLine: l.line, heldNs: at(l.line) });
      continue;
    }
    if (granted === undefined) continue;
    // A new grant with one still open means the trace missed its end: keep what it showed of the old one.
    if (held) recoveries.push(held);
    open.set(l.luid, { node, uuid: l.uuid, region: granted, grantLine: l.line, grantNs: at(l.line), heldLine: l.line, heldNs: at(l.line), errorNs });
  }
  recoveries.push(...open.values());
  return { recoveries, sets };
}

const secs = (ns: number) => `${(ns / 1e9).toFixed(2)} s`;

export function oneRecoveryAtATime(input: OneRecoveryInput): Verdict {
  const departed = new Map(input.departed.map((d) => [d.node, d.why]));
  const skipped: string[] = [];
  const recoveries: Recovery[] = [];
  const sets: SetLine[] = [];
  let placed = 0;
  for (const { node, dmesg } of input.logs) {
    if (departed.has(node)) {
      skipped.push(`node${node} (${departed.get(node)})`);
      continue;
    }
    const trace = parseTrace(dmesg);
    const gap = traceGap(trace, 'ulog');
    if (gap) {
      skipped.push(`node${node} (${gap})`);
      continue;
    }
    const clock = kernelClock(dmesg);
    if (!clock) {
      skipped.push(`node${node} (no clock mark in its kernel log)`);
      continue;
    }
    placed++;
    const r = recoveriesOf(node, dmesg, trace, clock.offsetNs, clock.errorNs);
    recoveries.push(...r.recoveries);
    sets.push(...r.sets);
  }
  const notJudged = skipped.length ? `; not judged: ${skipped.join(', ')}` : '';
  if (placed < 2) return unknownVerdict(INVARIANT, `fewer than two nodes' recoveries on one timeline${notJudged}`);
  const findings: Finding[] = [];
  const byStart = [...recoveries].sort((a, b) => a.grantNs - b.grantNs);
  for (let i = 0; i < byStart.length; i++) {
    for (let j = i + 1; j < byStart.length; j++) {
      const [a, c] = [byStart[i]!, byStart[j]!];
      if (a.node === c.node || a.uuid !== c.uuid) continue;
      const tolerance = input.clockSkewNs + a.errorNs + c.errorNs;
      // Both held at once: each was granted before the other's last held line, by more than the clocks can be off.
      const overlap = Math.min(a.heldNs - c.grantNs, c.heldNs - a.grantNs);
      if (overlap <= tolerance) continue;
      const mirror = input.mirrors[a.uuid];
      // What may have made the log forget a's recovery: a SET_REGION_SYNC other than a's own answer for its region, between the grants.
      const forgetting = sets.find((s) => s.uuid === a.uuid && !(s.node === a.node && s.region === a.region) && s.ns > a.grantNs - tolerance && s.ns < c.grantNs + tolerance);
      const after = forgetting
        ? `, after node${forgetting.node}'s SET_REGION_SYNC ${forgetting.region},${forgetting.inSync} (dmesg line ${forgetting.line})`
        : ', with no SET_REGION_SYNC of another member or region between the grants';
      findings.push({
        kind: a.region === c.region ? 'same-region' : 'overlap',
        region: c.region,
        ...(mirror ? { mirror } : {}),
        nodes: [`node${a.node}`, `node${c.node}`],
        message:
          `${mirror ?? a.uuid}: node${c.node} was granted region ${c.region} (dmesg line ${c.grantLine}) while node${a.node} recovered ` +
          `${a.region === c.region ? 'the same region' : `region ${a.region}`} (granted at line ${a.grantLine}, still held at line ${a.heldLine}${a.endLine ? `, ended at line ${a.endLine}` : ''})` +
          `: both held for ${secs(overlap)}, beyond the clocks' ${secs(tolerance)}${after}`,
      });
    }
  }
  return verdictFrom(
    INVARIANT,
    findings,
    `${recoveries.length} recoveries on ${placed} nodes, never two at once${notJudged}`,
    'of one recovery at a time',
    [{ n: recoveries.length, what: 'recoveries' }, { n: placed, what: 'nodes on one timeline' }],
  );
}

export async function checkOneRecoveryAtATime(input: OneRecoveryInput): Promise<Verdict> {
  return safeCheck(INVARIANT, () => oneRecoveryAtATime(input));
}

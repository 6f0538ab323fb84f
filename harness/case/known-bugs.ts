/**
 * The bugs the suite has found in the stack, each with the findings it produces: a case's `known-failure`
 * names bugs from here, and a failure is the known one only when every finding of every failed check
 * matches one of its bugs' signatures. Another defect that fails the same check with findings of another
 * shape reads as a failure of its own. docs/bugs.md tells each bug in full.
 */
import { recoveryOf, type FaultKind } from './fault-kinds.ts';
import type { Case, CheckName, KnownFailure, MirrorOp } from './schema.ts';

/** One kind of finding a bug produces. */
export interface FindingPattern {
  check: CheckName;
  /** Finding kinds (oracle/checks/*.ts `kind:`). */
  kinds: readonly string[];
  /** What the finding's message says. */
  says?: RegExp;
  /** The finding names a node (a writer, a node whose log differs) that a fault of the case targeted. */
  onFaultedNode?: boolean;
  /** The finding's region is one the case names for its known failure (`regions:`), when it names any. */
  inCaseRegions?: boolean;
}

export interface KnownBug {
  id: number;
  title: string;
  /** Where the bug is, as file:function. */
  cause: string;
  /** The fix patches (file names in vm-images/fixes/ or kernel-patches/fixes/); empty while it has none. */
  fixes: readonly string[];
  findings: readonly FindingPattern[];
  /**
   * What a case must do for the bug to show, any one of them: a fault kind, a mirror operation, or a table
   * option. A finding of a drawn scenario (explore) is put down to the bug only when the scenario did one.
   */
  needs: readonly Trigger[];
}

/** Something a case does that a bug needs: a fault kind, `mirror:OP`, or a table option. */
export type Trigger = FaultKind | `mirror:${MirrorOp}` | 'integrated-flush';

/** Everything a case does that some bug may need. */
export function caseTriggers(c: Pick<Case, 'steps' | 'topology' | 'schedule'>): Set<Trigger> {
  const out = new Set<Trigger>();
  for (const m of c.schedule?.faults ?? []) out.add(m.kind).add(recoveryOf(m.kind));
  for (const s of c.steps) {
    if (s.kind === 'fault') out.add(s.fault.kind);
    if (s.kind === 'mirror') out.add(`mirror:${s.op}`);
  }
  if (c.topology.integratedFlush) out.add('integrated-flush');
  return out;
}

/** A member leaves the log's group without a clean suspend: it dies, its daemon or corosync dies, or the ring loses it. */
const DEPARTS: readonly Trigger[] = ['crash', 'reset', 'kill-daemon', 'kill-corosync', 'pause', 'isolate', 'partition', 'net-loss'];
/** A member joins the log's group again and imports a checkpoint. */
const REJOINS: readonly Trigger[] = ['restart-node', 'restart-daemon', 'resume', 'heal', 'mirror:resume', 'mirror:reload', 'mirror:create'];
/** Corosync re-forms its ring or resynchronises its services. */
const REFORMS_RING: readonly Trigger[] = ['crash', 'reset', 'pause', 'isolate', 'partition', 'net-loss', 'net-delay', 'kill-corosync', 'restart-node', 'restart-daemon'];

/** Writes held for good, a resync that never ends, a status that never comes: every hang no-hang records. */
const ANY_HANG: FindingPattern = { check: 'no-hang', kinds: ['hang'] };
/** A resync that never completes: a `wait: {sync: complete}` or the end's wait for every node in sync ran out. */
const RESYNC_STUCK: FindingPattern = { check: 'no-hang', kinds: ['hang'], says: /wait sync\)|report every mirror in sync/ };
/** A node whose log server is gone reports "userspace 1 COM_FAILURE" while the others do not. */
const COM_FAILURE: FindingPattern = { check: 'nodes-agree', kinds: ['status-differs', 'failed-without-fault', 'status-contradicts-dump'], says: /COM_FAILURE/ };
/**
 * A node whose restarted cmirrord constructed the log but never resumed it: its dump has an empty log
 * (clean_bits 0, sync_count pending) and its status a meaningless count (160/128), against every other node.
 */
const LOG_NOT_RESUMED: FindingPattern = {
  check: 'nodes-agree',
  kinds: ['status-differs', 'dump-differs', 'bitmap-differs'],
  says: /SYNCED\/REGIONS differs|sync_count differs: .*\(pending\)|clean_bits differ|sync_bits differ/,
  onFaultedNode: true,
};

const BUGS: readonly KnownBug[] = [
  {
    id: 1,
    title: "a departed node's marked regions are reported in sync without being resynced",
    cause: 'cmirrord cluster.c:cpg_leave_callback (keeps neither the marks nor the sync bits of a departed member)',
    fixes: ['0001-cmirrord-resync-regions-a-departed-member-had-marked.patch', '0001-dm-raid1-cluster-mirror-looks-for-resync-work-a-departed-node-left.patch'],
    needs: DEPARTS,
    findings: [
      { check: 'legs-converge', kinds: ['legs-differ'], onFaultedNode: true },
      // Once the survivors clear the region, it is clean with the departed node's half-done write on one leg;
      // that write, never acknowledged, stays in flight in the writer's log for every later sample.
      { check: 'clean-implies-equal', kinds: ['legs-differ'], onFaultedNode: true },
      { check: 'dirty-before-write', kinds: ['clean-while-in-flight'], onFaultedNode: true },
    ],
  },
  {
    id: 2,
    title: 'resync stalls for good when the node recovering a region departs',
    cause: 'cmirrord cluster.c:cpg_leave_callback, functions.c:clog_get_resync_work (the recoverer\'s region is never taken back)',
    fixes: ['0002-cmirrord-take-back-a-departed-recoverer-s-region.patch', '0001-dm-raid1-cluster-mirror-looks-for-resync-work-a-departed-node-left.patch'],
    needs: DEPARTS,
    findings: [RESYNC_STUCK],
  },
  {
    id: 3,
    title: 'a member that joins from a checkpoint forgets the other members\' marks and cleans a region still being written',
    cause: 'cmirrord cluster.c:prepare_checkpoint, import_checkpoint (no mark list), functions.c:clear_region',
    fixes: ['0007-cmirrord-carry-the-mark-list-in-the-checkpoint.patch'],
    needs: REJOINS,
    findings: [
      { check: 'nodes-agree', kinds: ['bitmap-differs'], says: /clean_bits differ/ },
      { check: 'dirty-before-write', kinds: ['clean-while-in-flight'], inCaseRegions: true },
      { check: 'clean-implies-equal', kinds: ['legs-differ'], inCaseRegions: true },
    ],
  },
  {
    id: 4,
    title: 'after cmirrord restarts, a request resent for a log it never constructed fails, and the node holds its writes',
    cause: 'cmirrord cluster.c:cluster_send (-ENOENT for a log with no CPG), local.c:do_local_work; dm-log-userspace-base.c:userspace_do_request (reconnects only on -ESRCH)',
    fixes: [
      '0003-cmirrord-ask-the-kernel-to-construct-a-log-it-does-not-have.patch',
      '0002-dm-log-userspace-give-a-re-sent-ctr-room-for-its-answer.patch',
      '0004-dm-log-userspace-give-every-try-of-a-request-the-caller-s-room.patch',
      '0005-dm-log-userspace-let-one-request-at-a-time-reconnect.patch',
      '0006-dm-log-userspace-mark-again-the-regions-held-dirty-after-a-reconnect.patch',
    ],
    needs: ['kill-daemon', 'kill-corosync'],
    findings: [
      ANY_HANG,
      COM_FAILURE,
      LOG_NOT_RESUMED,
      { check: 'clean-implies-equal', kinds: ['legs-differ'], onFaultedNode: true },
      { check: 'dirty-before-write', kinds: ['clean-while-in-flight'], onFaultedNode: true },
    ],
  },
  {
    id: 5,
    title: 'cmirrord spins and never reconnects once corosync goes away, and I/O on the node hangs',
    cause: 'cmirrord link_mon.c:links_monitor ("FIXME: handle POLLHUP"), cluster.c:do_cluster_work',
    fixes: ['0004-cmirrord-exit-when-corosync-goes-away.patch'],
    needs: ['kill-corosync'],
    findings: [
      ANY_HANG,
      COM_FAILURE,
      LOG_NOT_RESUMED,
      { check: 'nodes-agree', kinds: ['log-missing', 'mirror-missing'], onFaultedNode: true },
      { check: 'clean-implies-equal', kinds: ['legs-differ'], onFaultedNode: true },
    ],
  },
  {
    id: 6,
    title: 'a cluster send that corosync answers with CS_ERR_TRY_AGAIN fails the request, and the node\'s writes are held for good',
    cause: 'cmirrord cluster.c:cluster_send (retries only with CMIRROR_HAS_CHECKPOINT), local.c:do_local_work',
    fixes: ['0005-cmirrord-retry-a-cluster-send-corosync-answers-with-try-again.patch'],
    needs: REFORMS_RING,
    // The held writes keep the mirror from syncing, so the end's wait for sync runs out too.
    findings: [ANY_HANG],
  },
  {
    id: 7,
    title: "after cmirrord restarts, the kernel's re-sent CTR has no room for its answer and the node asks for ever",
    cause: 'dm-log-userspace-base.c:userspace_do_request (re-sends CTR with rdata NULL), dm-log-userspace-transfer.c:fill_pkg; cmirrord functions.c:clog_ctr',
    fixes: ['0002-dm-log-userspace-give-a-re-sent-ctr-room-for-its-answer.patch'],
    needs: ['kill-daemon', 'kill-corosync'],
    findings: [{ check: 'kernel-clean', kinds: ['dm-error'], says: /Insufficient space to receive package|Log already exists/ }, ANY_HANG, COM_FAILURE, LOG_NOT_RESUMED],
  },
  {
    id: 8,
    title: 'a region set out of sync after the resync search passed it is never resynced',
    cause: 'cmirrord functions.c:clog_set_region_sync (leaves lc->sync_search past the region), clog_get_resync_work',
    fixes: ['0006-cmirrord-resync-a-region-set-out-of-sync-after-the-search-passed-it.patch'],
    needs: ['fail-leg'],
    findings: [RESYNC_STUCK],
  },
  {
    id: 9,
    title: 'a member that suspends keeps its stale mark list, and a later mark leaves the region clean',
    cause: 'cmirrord functions.c:clog_postsuspend (keeps lc->mark_list), functions.c:mark_region',
    fixes: ['0008-cmirrord-drop-the-mark-list-when-a-member-suspends.patch'],
    needs: ['mirror:suspend'],
    findings: [
      { check: 'dirty-before-write', kinds: ['clean-while-in-flight'], inCaseRegions: true },
      { check: 'clean-implies-equal', kinds: ['legs-differ'], inCaseRegions: true },
    ],
  },
  {
    id: 10,
    title: "a node's cached NOSYNC region is written to the default leg alone after another node recovered it",
    cause: 'dm-region-hash.c:__rh_alloc, dm_rh_dec (keep DM_RH_NOSYNC), dm-raid1.c:do_writes; dm-log-userspace-base.c:userspace_is_remote_recovering (trusts in_sync_hint)',
    fixes: ['0007-dm-raid1-ask-a-cluster-log-again-about-a-nosync-region.patch'],
    needs: ['fail-leg'],
    findings: [
      { check: 'clean-implies-equal', kinds: ['legs-differ'], inCaseRegions: true },
      { check: 'legs-converge', kinds: ['legs-differ'], inCaseRegions: true },
      { check: 'no-lost-writes', kinds: ['stale', 'lost'], inCaseRegions: true },
      // A sample that catches such a write in flight: on leg 0 alone, in a region clean on the log device.
      { check: 'dirty-before-write', kinds: ['clean-while-in-flight'], inCaseRegions: true },
    ],
  },
  {
    id: 11,
    title: 'a FLUSH that races a suspend is left unanswered for the whole retry timeout',
    cause: 'dm-raid1.c:mirror_presuspend, mirror_postsuspend; cmirrord cluster.c:cpg_leave_callback (answers only the POSTSUSPEND), cpg_message_callback',
    fixes: ['0003-dm-raid1-let-kmirrord-finish-its-log-flush-before-the-log-postsuspends.patch', '0010-cmirrord-answer-the-requests-a-member-frees-when-it-leaves-a-group.patch'],
    needs: ['mirror:suspend', 'mirror:reload', 'mirror:remove'],
    findings: [{ check: 'requests-answered', kinds: ['request-timed-out'], says: /POSTSUSPEND/ }],
  },
  {
    id: 12,
    title: 'with integrated_flush, cmirrord ignores the marks a FLUSH carries and sends them back, so the flush fails and the node holds its writes',
    cause: 'cmirrord functions.c:clog_flush (ignores the payload and leaves it in the answer); dm-log-userspace-transfer.c:dm_consult_userspace (-ENOSPC)',
    fixes: ['0009-cmirrord-mark-the-regions-an-integrated-flush-carries.patch'],
    needs: ['integrated-flush'],
    // The held writes never reach a leg, so the end's wait for the writers and for sync runs out.
    findings: [{ check: 'kernel-clean', kinds: ['dm-error'], says: /Insufficient space to receive package \[9\]/ }, ANY_HANG],
  },
  {
    id: 13,
    title: 'a mirror loaded in sync is never guarded: a node writes the regions another node set out of sync to its default leg alone, and that node reads them from its own',
    cause: 'cmirrord functions.c:clog_resume (clears lc->in_sync; only clog_set_region_sync sets it, after a recovery), clog_in_sync; dm-raid1.c:do_writes (a nosync region to the default leg alone), do_reads',
    fixes: ['0011-cmirrord-guard-a-mirror-that-resumes-in-sync-against-one-leg-writes.patch'],
    needs: ['fail-leg'],
    // The node whose leg failed reads from its other leg what the others wrote to their default leg alone.
    findings: [{ check: 'no-stale-reads', kinds: ['stale'], onFaultedNode: true }],
  },
  {
    id: 14,
    title: 'any SET_REGION_SYNC makes the log forget the recovery under way, hand its region out again, and a write between the two copies is lost on leg 1',
    cause: 'cmirrord functions.c:clog_set_region_sync (clears lc->recovering_region for every sender and region), clog_get_resync_work, clog_is_remote_recovering',
    fixes: ['0012-cmirrord-end-a-recovery-only-on-its-recoverer-s-answer.patch'],
    // A resync with copies under way, and a member that sets regions out of sync meanwhile.
    needs: ['mirror:create', 'fail-leg'],
    // The cause, every time: a grant while another member's recovery is on, after a SET_REGION_SYNC that was not
    // that recovery's end. The consequence, when a write lands between the copies: the second copy writes the
    // other leg over it.
    findings: [
      { check: 'one-recovery-at-a-time', kinds: ['same-region', 'overlap'], says: /after node\d+'s SET_REGION_SYNC/ },
      { check: 'no-lost-writes', kinds: ['lost', 'stale'], says: /on clog\d+\/leg1/ },
      { check: 'clean-implies-equal', kinds: ['legs-differ'] },
      { check: 'legs-converge', kinds: ['legs-differ'] },
    ],
  },
  {
    id: 15,
    title: 'the requests a log server left unanswered when its daemon died wait out the 15 s timeout, and a mark among them lets its writes land in a region resynced from under them',
    cause: 'cmirrord cluster.c:cpg_leave_callback (never sets resend_requests; only the server\'s POSTSUSPEND does, in cpg_message_callback), resend_requests',
    fixes: ['0013-cmirrord-resend-the-requests-a-server-left-unanswered-when-it-leaves-uncleanly.patch'],
    // The server's daemon leaves without a POSTSUSPEND while its node lives on (a crash is bug 1's ground).
    needs: ['kill-daemon', 'kill-corosync'],
    // Every time: another node's request waits out the timeout. When a late write lands in a region under copy,
    // the copy writes the other leg over it.
    findings: [
      { check: 'requests-answered', kinds: ['request-timed-out'] },
      { check: 'no-lost-writes', kinds: ['lost', 'stale'], says: /on clog\d+\/leg1/ },
      { check: 'clean-implies-equal', kinds: ['legs-differ'] },
      { check: 'legs-converge', kinds: ['legs-differ'] },
    ],
  },
];

export const KNOWN_BUGS: ReadonlyMap<number, KnownBug> = new Map(BUGS.map((b) => [b.id, b]));

export function knownBug(id: number): KnownBug | undefined {
  return KNOWN_BUGS.get(id);
}

/** "bug 11 (a FLUSH that races ...)". */
export function describeBug(id: number): string {
  const b = KNOWN_BUGS.get(id);
  return b ? `bug ${id} (${b.title})` : `bug ${id}`;
}

/** The checks a bug's findings fail. */
export function checksOf(bug: KnownBug): CheckName[] {
  return [...new Set(bug.findings.map((f) => f.check))];
}

/** The bugs a case expects to see in this run: with --fixes, a bug whose fix is in the series is expected gone. */
export function knownFailureInForce(kf: KnownFailure | undefined, opts: { fixes: boolean }): KnownFailure | undefined {
  if (!kf) return undefined;
  const bugs = opts.fixes ? kf.bugs.filter((id) => (KNOWN_BUGS.get(id)?.fixes.length ?? 0) === 0) : kf.bugs;
  return bugs.length ? { ...kf, bugs } : undefined;
}

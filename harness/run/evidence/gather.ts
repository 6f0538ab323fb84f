/**
 * The evidence the checks judge at a point (a check step, or the end of the case), gathered from the live
 * cluster into the case directory: every live node's `dmsetup status`, cmirrord state dump and kernel log,
 * the kernel logs of the nodes that are gone, the guest clocks, and the shared disks as they stand with
 * every guest frozen. checks/ reads it back (record/read.ts) and judges it. One choice is made here: nodes
 * that have just finished a region may be a status read apart, so the statuses and dumps are read again (a
 * few times, 2 s apart) while they disagree, and the last reading is the evidence.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CMIRRORD_LOG } from '../../base/guest-contract.ts';
import { DeadlineError, errorMessage } from '../../base/errors.ts';
import { dmsetup, waitMirrors } from '../../guest/mirror/ops.ts';
import { checkNodesAgree } from '../../oracle/checks/nodes-agree.ts';
import { inSync } from '../../oracle/dm-status.ts';
import { events } from '../../record/events.ts';
import { startLaps } from '../../record/laps.ts';
import { EVIDENCE_FILES, evidenceDir, WRITES_DIR, type Point } from '../../record/layout.ts';
import { diskFile, liveNodes, type CaseContext } from '../context/case-context.ts';
import type { Node } from '../../guest/cluster/node.ts';
import { frozenNow, inTurn } from './freeze.ts';
import { collectCoverage } from './coverage.ts';

/** How long the checks wait for every live node to report every mirror in sync before judging. */
export const SYNC_DEADLINE_MS = 300_000;
/**
 * Once a step has hung, the cluster is unlikely to settle: the wait is this long, not the full deadline.
 * no-hang has failed already; all the wait can still change is whether legs-converge has a synced mirror
 * to judge, and in whole-suite runs no mirror that had not synced by the hang synced in the 30 s after it.
 */
export const SYNC_AFTER_HANG_MS = 15_000;
/** A node that has just finished a region can be a status read ahead of the others: read this many times. */
const AGREE_ATTEMPTS = 5;
const AGREE_GAP_MS = 2000;
const COMMAND_MS = 30_000;
const DUMP_MARK = 'LOG COMPONENT DEBUGGING::';

/**
 * A fresh SIGUSR1 dump of cmirrord's state: only what its log gained after the signal is read (a spinning
 * cmirrord fills it with errors), and only once the dump's mark is there. cmirrord answers the signal from
 * its main loop; one that does not answer within a few seconds gives no dump, which is said, not thrown.
 */
export function dumpCommand(log: string, mark: string): string {
  const after = `tail -c +$((size + 1)) ${log}`;
  // Once the mark is there, the dump is read when the log has stopped growing for a moment, from the line
  // before the mark (cmirrord starts a dump with an empty line), at most 1 MiB of it. A log still growing
  // 3 s later is a daemon writing errors around its dump (bug 5's spin): no dump (exit 5), where waiting
  // for it used to cost the whole command deadline.
  const settled = `prev=-1; n=0; while :; do now=$(stat -c %s ${log}); [ "$now" = "$prev" ] && break; n=$((n + 1)); [ $n -gt 10 ] && exit 5; prev=$now; sleep 0.3; done`;
  return (
    `size=$(stat -c %s ${log} 2>/dev/null || echo 0); pid=$(pidof cmirrord) || exit 3; kill -USR1 $pid || exit 3; ` +
    `for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.3; ${after} | grep -q '${mark}' && { ${settled}; echo; ${after} | sed -n '/${mark}/,$p' | head -c 1048576; exit 0; }; done; exit 4`
  );
}

type Got = { node: number; text: string } | { node: number; error: string; hung?: boolean };

async function statusesAndDumps(nodes: Node[]) {
  const statuses = await Promise.all(
    nodes.map(async (n): Promise<Got> =>
      dmsetup(n, 'status').then(
        (text) => ({ node: n.id, text }),
        (err: unknown) => ({ node: n.id, error: errorMessage(err).split('\n')[0]!, hung: err instanceof DeadlineError }),
      ),
    ),
  );
  const dumps = await Promise.all(
    nodes.map(async (n): Promise<Got | undefined> => {
      const r = await n
        .exec(dumpCommand(CMIRRORD_LOG, DUMP_MARK), { timeoutMs: COMMAND_MS })
        .catch((err: unknown) => ({ code: -1, stdout: '', stderr: errorMessage(err), hung: err instanceof DeadlineError }));
      if (r.code === 3) return undefined;
      if ('hung' in r && r.hung) return { node: n.id, error: `the dump did not come back: ${r.stderr.split('\n')[0]}`, hung: true };
      if (r.code === 4) return { node: n.id, error: 'cmirrord did not answer SIGUSR1 with a state dump within 3 s' };
      if (r.code === 5) return { node: n.id, error: "cmirrord's log was still growing 3 s after its state dump began: no dump taken" };
      if (r.code !== 0) return { node: n.id, error: `the dump failed (exit ${r.code}): ${r.stderr.trim().split('\n')[0]}` };
      if (!r.stdout.includes(DUMP_MARK)) return { node: n.id, error: 'the dump read back has no start mark' };
      return { node: n.id, text: r.stdout };
    }),
  );
  const ok = (g: Got | undefined): g is { node: number; text: string } => g !== undefined && 'text' in g;
  const failed = (g: Got | undefined): g is { node: number; error: string } => g !== undefined && 'error' in g;
  const statusFailures = statuses.filter(failed);
  const dumpFailures = dumps.filter(failed);
  const hung = [...statusFailures, ...dumpFailures].some((f) => 'hung' in f && f.hung);
  return { statuses: statuses.filter(ok), dumps: dumps.filter(ok), statusFailures, dumpFailures, hung };
}

/** A crashed node's kernel log up to its crash is on its serial consoles, oldest first. */
function consoleLog(n: Node): string {
  const files = existsSync(n.dir) ? readdirSync(n.dir).filter((f) => /^serial(-crashed-\d+)?\.log$/.test(f)).sort() : [];
  const ordered = [...files.filter((f) => f !== 'serial.log'), ...files.filter((f) => f === 'serial.log')];
  return ordered.map((f) => readFileSync(join(n.dir, f), 'utf8')).join('\n');
}

/** How long each writer log under writes/ is now: the checks at this point read no further. */
function writerLogBytes(ctx: CaseContext): Record<string, number> {
  const dir = join(ctx.dir, WRITES_DIR);
  if (!existsSync(dir)) return {};
  return Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.jsonl')).map((f) => [`${WRITES_DIR}/${f}`, statSync(join(dir, f)).size]));
}

export interface GatherOptions {
  /**
   * Keep the cluster frozen when done (the end of a case: nothing may change the disks between the
   * checks and the tear-down), instead of copying the disks and thawing (a check step mid-case).
   */
  stayFrozen: boolean;
}

/**
 * Waits for the mirrors to settle, then records the point's evidence and appends its `evidence` event.
 * A resync that does not finish in time is recorded as a hang: the checks then judge what is there.
 */
export async function gatherEvidence(ctx: CaseContext, point: Point, opts: GatherOptions): Promise<void> {
  const dir = evidenceDir(ctx.dir, point);
  mkdirSync(dir, { recursive: true });
  const { lap, parts: partsMs } = startLaps();
  if (ctx.mirrorsLoaded) {
    const deadline = ctx.hangs.length ? SYNC_AFTER_HANG_MS : SYNC_DEADLINE_MS;
    try {
      await waitMirrors(liveNodes(ctx), ctx.mirrors, 'every live node to report every mirror in sync (SYNCED == REGIONS)', inSync, deadline);
    } catch (err) {
      const what = `before the checks at ${point}: ${errorMessage(err)}`;
      ctx.hangs.push(what);
      events.hang(ctx.history, { what });
    }
  }
  lap('sync');
  const nodes = liveNodes(ctx);
  const clocks = await Promise.allSettled(nodes.map((n) => ctx.cluster.readClocks([n], point)));
  events.clocks(ctx.history, { readings: clocks.flatMap((c) => (c.status === 'fulfilled' ? c.value : [])) });
  lap('clocks');
  let got = await statusesAndDumps(nodes);
  // A node that did not answer in time is stuck, not a status read behind: reading again costs a full
  // command deadline each time (corosync-kill spent 150 s so) and cannot make the others agree with it.
  // Nor does reading again help once two reads a gap apart disagree in the same way: nothing is moving
  // (daemon-kill-and-restart's node with no log server spent 20 s on four more reads of the same).
  let disagreement: string | undefined;
  for (let attempt = 1; attempt < AGREE_ATTEMPTS && got.statuses.length > 1 && ctx.mirrorsLoaded && !got.hung; attempt++) {
    const agree = await checkNodesAgree({ statuses: got.statuses, ...(got.dumps.length ? { dumps: got.dumps } : {}) });
    if (agree.valid !== false) break;
    const now = JSON.stringify(agree.findings);
    if (now === disagreement) break;
    disagreement = now;
    await new Promise((r) => setTimeout(r, AGREE_GAP_MS));
    got = await statusesAndDumps(nodes);
  }
  // A node whose status does not come back in time is stuck in the log (dmsetup status waits for cmirrord):
  // a hang. Any other failure to read it is only said.
  for (const f of got.statusFailures) {
    const what = `at ${point}: dmsetup status on node${f.node} did not answer: ${f.error}`;
    if ('hung' in f && f.hung) {
      ctx.hangs.push(what);
      events.hang(ctx.history, { what });
    } else ctx.history.append('error', { what, node: f.node, point });
  }
  for (const f of got.dumpFailures) ctx.history.append('error', { what: 'cmirrord dump', node: f.node, point, error: f.error });
  for (const s of got.statuses) writeFileSync(join(dir, EVIDENCE_FILES.status(s.node)), s.text);
  for (const d of got.dumps) writeFileSync(join(dir, EVIDENCE_FILES.dump(d.node)), d.text);
  lap('status');
  const live = new Set(nodes.map((n) => n.id));
  await Promise.all(
    ctx.cluster.nodes.map(async (n) => {
      // A live node that does not answer still has its console: what its kernel said up to now is there.
      const dmesg = live.has(n.id) ? await n.exec('dmesg', { timeoutMs: COMMAND_MS }).catch(() => undefined) : undefined;
      writeFileSync(join(dir, EVIDENCE_FILES.kernel(n.id)), dmesg?.code === 0 ? dmesg.stdout : consoleLog(n));
    }),
  );
  lap('kernel');
  // The guests will not run again after an end freeze: their logs are pulled now, while they answer.
  if (opts.stayFrozen) await ctx.cluster.collectLogs().catch((err: unknown) => ctx.history.append('error', { what: 'guest logs', error: errorMessage(err) }));
  lap('logs');
  await collectCoverage(ctx, point);
  lap('coverage');
  const recorded = () => {
    lap('freeze');
    events.evidence(ctx.history, {
      point,
      live: [...live].sort((a, b) => a - b),
      down: ctx.cluster.nodes.map((n) => n.id).filter((id) => !live.has(id)),
      writerLogBytes: writerLogBytes(ctx),
      partsMs,
    });
  };
  await inTurn(ctx, async () => {
    if (opts.stayFrozen) {
      await Promise.all(nodes.map((n) => n.qmp.stop()));
      recorded();
      return;
    }
    await frozenNow(ctx, async () => {
      mkdirSync(join(dir, 'disks'), { recursive: true });
      for (const d of ctx.cluster.disks) copyFileSync(diskFile(ctx, d.serial), join(dir, 'disks', `${d.serial}.img`));
      recorded();
    });
  });
}

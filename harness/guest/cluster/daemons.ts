/** The guest daemons, corosync and cmirrord: where they log, how they are started and how their start is awaited. */
import { CMIRRORD_LOG, GUEST_GCOV_DIR, GUEST_LOG_DIR } from '../../base/guest-contract.ts';
import { shellQuote } from '../../base/proc.ts';
import type { Node } from './node.ts';
import { GiveUp, poll } from '../../base/poll.ts';

export const COROSYNC_CONF = '/etc/corosync/corosync.conf';
export const COROSYNC_OUT = `${GUEST_LOG_DIR}/corosync.out`;
/** Printed by cmirrord once it has joined CPG and opened its kernel connector socket. */
export const CMIRRORD_READY = 'Starting cmirrord';

/** A guest command started detached from the SSH channel, so the channel closes at once. */
export function background(cmd: string, logFile: string): string {
  // Braces keep `&` to this command: `a && b &` would background the whole list.
  return `{ setsid nohup ${cmd} >> ${shellQuote(logFile)} 2>&1 < /dev/null & }`;
}

/** Writes corosync.conf (when given) and starts corosync in the background, in one round trip: each exec costs a guest shell start, slow under TCG. */
export async function startCorosync(n: Node, conf: string | undefined, timeoutMs: number): Promise<void> {
  const write = conf === undefined ? '' : `cat > ${COROSYNC_CONF} && `;
  await n.execOrThrow(`mkdir -p /etc/corosync ${GUEST_LOG_DIR} && ${write}${background('corosync -f', COROSYNC_OUT)}`, {
    timeoutMs,
    ...(conf === undefined ? {} : { input: conf }),
  });
}

/**
 * Stops corosync (SIGTERM, SIGKILL after 10 s) and starts it again with conf: for a membership that did not
 * form, where a reload cannot reach the nodes outside it. Only at bring-up, before any log joins a CPG group.
 */
export async function restartCorosync(n: Node, conf: string, timeoutMs: number): Promise<void> {
  await n.execOrThrow(
    'pid=$(pidof corosync) && { kill $pid; for i in $(seq 50); do pidof corosync >/dev/null || break; sleep 0.2; done; ' +
      'pid=$(pidof corosync) && kill -9 $pid; for i in $(seq 25); do pidof corosync >/dev/null || break; sleep 0.2; done; }; true',
    { timeoutMs },
  );
  await startCorosync(n, conf, timeoutMs);
}

/**
 * Gives a running cluster a new corosync.conf (conf, whose token is tokenMs): written on every node, reloaded
 * by one `corosync-cfgtool -R` (which reloads every member), and awaited until each node runs at least that token.
 */
export async function reloadCorosync(nodes: readonly Node[], conf: string, tokenMs: number, deadlineMs: number, commandMs: number): Promise<void> {
  await Promise.all(nodes.map((n) => n.execOrThrow(`cat > ${COROSYNC_CONF}`, { timeoutMs: commandMs, input: conf })));
  await nodes[0]!.execOrThrow('corosync-cfgtool -R', { timeoutMs: commandMs });
  await Promise.all(
    nodes.map((n) =>
      poll(`${n.name}: corosync running with a token of at least ${tokenMs} ms after the reload`, deadlineMs, 200, async () => {
        const r = await n.exec('corosync-cmapctl -g runtime.config.totem.token', { timeoutMs: commandMs });
        // The runtime token is the configured one plus token_coefficient (650 ms) per node beyond two.
        const now = Number(/=\s*(\d+)\s*$/.exec(r.stdout.trim())?.[1]);
        return now >= tokenMs ? { done: true, value: undefined } : { done: false, seen: r.stdout.trim() || r.stderr.trim() || `exit ${r.code}` };
      }),
    ),
  );
}

const readyCount = `grep -c ${shellQuote(CMIRRORD_READY)} ${CMIRRORD_LOG} 2>/dev/null || true`;

/**
 * Starts cmirrord in the background and returns how many ready lines its log held before, for awaitCmirrord.
 * cmirrord needs no corosync to start (it joins a CPG group per log, when the log is created), so the
 * bring-up starts it with corosync and its start overlaps the membership forming. cmirrord -f logs to stdout,
 * block-buffered into a file: line buffering makes its start-up line, and later its SIGUSR1 state dumps,
 * visible as they happen. GCOV_PREFIX matters only to a coverage build.
 */
export async function launchCmirrord(n: Node, commandMs: number): Promise<number> {
  const r = await n.execOrThrow(`mkdir -p ${GUEST_LOG_DIR}; ${readyCount}; ${background(`env GCOV_PREFIX=${GUEST_GCOV_DIR} stdbuf -oL -eL cmirrord -f`, CMIRRORD_LOG)}`, { timeoutMs: commandMs });
  return Number(r.stdout.trim() || 0);
}

/** Waits until cmirrord says it is ready: its ready line count must have grown past before, so a restart is not mistaken for the old daemon's start. */
export async function awaitCmirrord(n: Node, before: number, deadlineMs: number, commandMs: number, gone: () => string | undefined = () => undefined): Promise<void> {
  // Until setsid, nohup, env and stdbuf have exec'd into it, pidof does not see a cmirrord that is starting
  // fine: only a daemon missing on several polls in a row has died.
  let missing = 0;
  await poll(`${n.name}: cmirrord started ("${CMIRRORD_READY}" in ${CMIRRORD_LOG})`, deadlineMs, 300, async () => {
    const r = await n.exec(`${readyCount}; pidof cmirrord >/dev/null && echo running || echo 'not running'; tail -n 3 ${CMIRRORD_LOG}`, { timeoutMs: commandMs });
    const [seenCount, state, ...tail] = r.stdout.trim().split('\n');
    if (Number(seenCount) > before) return { done: true, value: undefined };
    const seen = `cmirrord ${state} | ${tail.join(' | ')}`;
    missing = state === 'not running' ? missing + 1 : 0;
    if (missing >= 3) throw new GiveUp(seen);
    return { done: false, seen };
  }, gone);
}

export async function startCmirrord(n: Node, deadlineMs: number, commandMs: number, gone: () => string | undefined = () => undefined): Promise<void> {
  await awaitCmirrord(n, await launchCmirrord(n, commandMs), deadlineMs, commandMs, gone);
}

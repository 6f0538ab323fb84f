/** The guest daemons, corosync and cmirrord: where they log, how they are started and how their start is awaited. */
import { GUEST_LOG_DIR } from '../guest.ts';
import { shellQuote } from '../remote/ssh.ts';
import type { Node } from './node.ts';
import { GiveUp, poll } from '../poll.ts';

export const COROSYNC_CONF = '/etc/corosync/corosync.conf';
export const COROSYNC_OUT = `${GUEST_LOG_DIR}/corosync.out`;
export const CMIRRORD_LOG = `${GUEST_LOG_DIR}/cmirrord.log`;
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
 * Starts cmirrord and waits until it says it is ready: its ready line counted before the start must have
 * grown, so a restart is not mistaken for the old daemon's start. cmirrord -f logs to stdout, block-buffered
 * into a file: line buffering makes its start-up line, and later its SIGUSR1 state dumps, visible as they happen.
 */
export async function startCmirrord(n: Node, deadlineMs: number, commandMs: number, gone: () => string | undefined = () => undefined): Promise<void> {
  const count = `grep -c ${shellQuote(CMIRRORD_READY)} ${CMIRRORD_LOG} 2>/dev/null || true`;
  const before = Number((await n.execOrThrow(`mkdir -p ${GUEST_LOG_DIR}; ${count}`, { timeoutMs: commandMs })).stdout.trim() || 0);
  await n.execOrThrow(background('stdbuf -oL -eL cmirrord -f', CMIRRORD_LOG), { timeoutMs: commandMs });
  // Until setsid, nohup and stdbuf have exec'd into it, pidof does not see a cmirrord that is starting
  // fine: only a daemon missing on several polls in a row has died.
  let missing = 0;
  await poll(`${n.name}: cmirrord started ("${CMIRRORD_READY}" in ${CMIRRORD_LOG})`, deadlineMs, 300, async () => {
    const r = await n.exec(`${count}; pidof cmirrord >/dev/null && echo running || echo 'not running'; tail -n 3 ${CMIRRORD_LOG}`, { timeoutMs: commandMs });
    const [seenCount, state, ...tail] = r.stdout.trim().split('\n');
    if (Number(seenCount) > before) return { done: true, value: undefined };
    const seen = `cmirrord ${state} | ${tail.join(' | ')}`;
    missing = state === 'not running' ? missing + 1 : 0;
    if (missing >= 3) throw new GiveUp(seen);
    return { done: false, seen };
  }, gone);
}

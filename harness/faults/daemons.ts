/** kill-daemon, kill-corosync and restart-daemon: the user-space half of the cluster log. */
import type { Node } from '../cluster/node.ts';
import { DeadlineError } from '../errors.ts';
import { GUEST_LOG_DIR } from '../guest.ts';
import { liveNodes, type CaseContext } from '../runner/context.ts';
import type { FaultImpl } from './types.ts';

const CMIRRORD_LOG = `${GUEST_LOG_DIR}/cmirrord.log`;
const CMIRRORD_READY = 'Starting cmirrord';

function background(cmd: string, log: string): string {
  return `setsid nohup ${cmd} >> ${log} 2>&1 < /dev/null &`;
}

/** SIGKILL by the daemon's own PID in the guest; a daemon already gone is a step that cannot be carried out. */
async function kill9(node: Node, daemon: string, timeoutMs: number): Promise<void> {
  await node.execOrThrow(`pid=$(pidof ${daemon}) || { echo "${daemon} is not running" >&2; exit 1; }; kill -9 $pid`, { timeoutMs });
}

export const killDaemon: FaultImpl<'kill-daemon'> = {
  async start(_ctx, _f, nodes, step) {
    await Promise.all(nodes.map((n) => kill9(n, 'cmirrord', step.timeoutMs)));
  },
};

export const killCorosync: FaultImpl<'kill-corosync'> = {
  async start(_ctx, _f, nodes, step) {
    await Promise.all(nodes.map((n) => kill9(n, 'corosync', step.timeoutMs)));
  },
};

async function waitFor(awaited: string, deadlineMs: number, probe: () => Promise<string | true>): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let seen = 'nothing yet';
  for (;;) {
    const r = await probe().catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
    if (r === true) return;
    seen = r;
    if (Date.now() + 500 > deadline) throw new DeadlineError(awaited, deadlineMs / 1000, seen);
    await new Promise((res) => setTimeout(res, 500));
  }
}

/** Starts corosync when it is down (and waits for it to rejoin the live nodes), then cmirrord when it is down. */
export async function startDaemons(ctx: CaseContext, node: Node, deadlineMs: number): Promise<void> {
  const opts = { timeoutMs: Math.min(deadlineMs, 20_000) };
  const corosync = await node.exec('pidof corosync', opts);
  if (corosync.code !== 0) {
    await node.execOrThrow(`mkdir -p ${GUEST_LOG_DIR}; ${background('corosync -f', `${GUEST_LOG_DIR}/corosync.out`)}`, opts);
    ctx.history.append('info', { node: node.id, what: 'corosync started' });
  }
  const members = liveNodes(ctx).map((n) => n.id);
  if (!members.includes(node.id)) members.push(node.id);
  await ctx.cluster.waitQuorate(node, members.sort((a, b) => a - b), deadlineMs);
  const cmirrord = await node.exec('pidof cmirrord', opts);
  if (cmirrord.code === 0) return;
  const count = `grep -c '${CMIRRORD_READY}' ${CMIRRORD_LOG} 2>/dev/null || true`;
  const before = Number((await node.execOrThrow(count, opts)).stdout.trim() || 0);
  await node.execOrThrow(background('stdbuf -oL -eL cmirrord -f', CMIRRORD_LOG), opts);
  await waitFor(`${node.name}: cmirrord started again ("${CMIRRORD_READY}" in ${CMIRRORD_LOG})`, deadlineMs, async () => {
    const now = Number((await node.execOrThrow(count, opts)).stdout.trim() || 0);
    if (now > before) return true;
    const tail = await node.exec(`pidof cmirrord >/dev/null && echo running || echo 'not running'; tail -n 3 ${CMIRRORD_LOG}`, opts);
    return `cmirrord ${tail.stdout.trim().replace(/\n/g, ' | ')}`;
  });
  ctx.history.append('info', { node: node.id, what: 'cmirrord started' });
}

export const restartDaemon: FaultImpl<'restart-daemon'> = {
  async start(ctx, _f, nodes, step) {
    for (const n of nodes) await startDaemons(ctx, n, step.timeoutMs);
  },
};

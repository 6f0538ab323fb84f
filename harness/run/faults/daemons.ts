/** kill-daemon, stop-daemon, kill-corosync and restart-daemon: the user-space half of the cluster log. */
import { startCmirrord, startCorosync } from '../../guest/cluster/daemons.ts';
import { events } from '../../record/events.ts';
import type { Node } from '../../guest/cluster/node.ts';
import { liveNodes, type CaseContext } from '../context/case-context.ts';
import type { FaultImpl } from './types.ts';

const COMMAND_MS = 20_000;

/** SIGKILL by the daemon's own PID in the guest; a daemon already gone is a step that cannot be carried out. */
async function kill9(node: Node, daemon: string, timeoutMs: number): Promise<void> {
  await node.execOrThrow(`pid=$(pidof ${daemon}) || { echo "${daemon} is not running" >&2; exit 1; }; kill -9 $pid`, { timeoutMs });
}

export const killDaemon: FaultImpl<'kill-daemon'> = {
  async start(_ctx, _f, nodes, step) {
    await Promise.all(nodes.map((n) => kill9(n, 'cmirrord', step.timeoutMs)));
  },
};

/** How long cmirrord may take to act on SIGTERM: it handles signals from its main loop. */
const STOP_WAIT_S = 5;

/**
 * SIGTERM by PID, then whether cmirrord exited within STOP_WAIT_S or is still running (it refuses while it
 * holds logs: "Cluster logs exist.  Refusing to exit."); the history says which. Neither is a failure of
 * the step: the checks judge what the mirror saw.
 */
export const stopDaemon: FaultImpl<'stop-daemon'> = {
  async start(ctx, _f, nodes, step) {
    await Promise.all(
      nodes.map(async (n) => {
        const r = await n.execOrThrow(
          `pid=$(pidof cmirrord) || { echo "cmirrord is not running" >&2; exit 1; }; kill -TERM $pid; ` +
            `for i in $(seq ${STOP_WAIT_S * 10}); do [ -d /proc/$pid ] || { echo exited; exit 0; }; sleep 0.1; done; echo running`,
          { timeoutMs: step.timeoutMs },
        );
        events.daemonStop(ctx.history, { node: n.id, exited: r.stdout.trim() === 'exited' });
      }),
    );
  },
};

export const killCorosync: FaultImpl<'kill-corosync'> = {
  async start(_ctx, _f, nodes, step) {
    await Promise.all(nodes.map((n) => kill9(n, 'corosync', step.timeoutMs)));
  },
};

/** Starts corosync when it is down (and waits for it to rejoin the live nodes), then cmirrord when it is down. */
export async function startDaemons(ctx: CaseContext, node: Node, deadlineMs: number): Promise<void> {
  const opts = { timeoutMs: Math.min(deadlineMs, COMMAND_MS) };
  if ((await node.exec('pidof corosync', opts)).code !== 0) {
    await startCorosync(node, undefined, opts.timeoutMs);
    events.nodeBack(ctx.history, { node: node.id, what: 'corosync started' });
  }
  const members = liveNodes(ctx).map((n) => n.id);
  if (!members.includes(node.id)) members.push(node.id);
  await ctx.cluster.waitQuorate(node, members.sort((a, b) => a - b), deadlineMs);
  if ((await node.exec('pidof cmirrord', opts)).code === 0) return;
  await startCmirrord(node, deadlineMs, opts.timeoutMs);
  events.nodeBack(ctx.history, { node: node.id, what: 'cmirrord started' });
}

export const restartDaemon: FaultImpl<'restart-daemon'> = {
  async start(ctx, _f, nodes, step) {
    for (const n of nodes) await startDaemons(ctx, n, step.timeoutMs);
  },
};

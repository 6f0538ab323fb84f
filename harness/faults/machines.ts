/** crash, reset, pause, resume, restart-node: faults of the whole guest, through QMP. */
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Fault } from '../case/schema.ts';
import { corosyncConf } from '../cluster/corosync-conf.ts';
import type { Node } from '../cluster/node.ts';
import { InfraError } from '../errors.ts';
import { GUEST_LOG_DIR } from '../guest.ts';
import { liveNodes, type CaseContext } from '../runner/context.ts';
import { Machine } from '../vm/machine.ts';
import { createMirror } from '../mirror/ops.ts';
import { startDaemons } from './daemons.ts';
import type { FaultImpl } from './types.ts';

/** A fault carried out on every `on:` node at once, its bookkeeping in the context done by act. */
function onEachNode<K extends Fault['kind']>(act: (ctx: CaseContext, n: Node, timeoutMs: number) => Promise<void>): FaultImpl<K> {
  return {
    async start(ctx, _f, nodes, step) {
      await Promise.all(nodes.map((n) => act(ctx, n, step.timeoutMs)));
    },
  };
}

export const crash = onEachNode<'crash'>(async (ctx, n, timeoutMs) => {
  // Marked first: from here on nothing may wait on this node, whatever quit says.
  ctx.down.add(n.id);
  // Until QEMU has gone, the guest may still write to the shared disks, and a restart-node
  // right after would race the old process for its ports and files.
  if (n.machine) await n.machine.shutdown(timeoutMs);
});

export const reset = onEachNode<'reset'>(async (ctx, n, timeoutMs) => {
  ctx.down.add(n.id);
  await n.qmp.systemReset(timeoutMs);
});

export const pause = onEachNode<'pause'>(async (ctx, n, timeoutMs) => {
  ctx.paused.add(n.id);
  await n.qmp.stop(timeoutMs);
});

export const resume = onEachNode<'resume'>(async (ctx, n, timeoutMs) => {
  await n.qmp.cont(timeoutMs);
  ctx.paused.delete(n.id);
});

/**
 * Boots a crashed node again, QEMU and all, with a fresh root overlay as a replaced machine
 * would have; the crashed run's console is kept as serial-crashed-N.log.
 */
async function bootAgain(ctx: CaseContext, n: Node, deadlineMs: number): Promise<void> {
  const c = ctx.cluster;
  if (!c.hub) throw new InfraError('the cluster has no hub');
  const serial = join(n.dir, 'serial.log');
  if (existsSync(serial)) {
    let i = 1;
    while (existsSync(join(n.dir, `serial-crashed-${i}.log`))) i++;
    renameSync(serial, join(n.dir, `serial-crashed-${i}.log`));
  }
  n.machine = await Machine.start({
    rootImage: c.opts.rootImage,
    dir: n.dir,
    qmpDeadlineMs: Math.min(deadlineMs, 15_000),
    say: ctx.say,
    spec: {
      node: n.id,
      accel: c.accel,
      cpus: c.opts.cpus,
      memoryMb: c.opts.memoryMb,
      kernel: c.opts.bzImage,
      kernelArgs: c.opts.kernelArgs,
      sharedDisks: c.disks,
      sshPort: n.ports.ssh,
      hubPort: c.hub.port,
      clusterPort: n.ports.cluster,
    },
  });
  await n.connect(deadlineMs);
  // The fresh overlay lost the corosync.conf the bring-up wrote.
  const conf = corosyncConf({ clusterName: c.opts.name, nodes: c.nodes.map((x) => ({ id: x.id, ip: x.ip })), tokenMs: c.opts.tokenMs });
  await n.execOrThrow(`mkdir -p /etc/corosync ${GUEST_LOG_DIR}`, { timeoutMs: 20_000 });
  await n.ssh.upload(Buffer.from(conf), '/etc/corosync/corosync.conf', { timeoutMs: 20_000 });
}

/**
 * Brings a crashed (QEMU gone) or reset node back: boots it if needed, reconnects, starts
 * corosync and cmirrord, and loads the mirrors again if the case has them loaded.
 */
export const restartNode: FaultImpl<'restart-node'> = {
  async start(ctx, _f, nodes, step) {
    for (const n of nodes) {
      if (!n.machine || n.machine.hasExited()) await bootAgain(ctx, n, step.timeoutMs);
      else await n.connect(step.timeoutMs);
      // A rebooted node loads healthy layers: whatever a fault swapped in went down with it.
      for (const [key, s] of ctx.swapped) if (s.node === n.id) ctx.swapped.delete(key);
      await ctx.cluster.syncClock(n, liveNodes(ctx).find((x) => x !== n && x.hasSsh));
      await startDaemons(ctx, n, step.timeoutMs);
      if (ctx.mirrorsLoaded) {
        for (const [i, m] of ctx.mirrors.entries()) await createMirror(n, ctx.case.topology, m, ctx.uuids[i]!, step.timeoutMs);
      }
      ctx.down.delete(n.id);
      ctx.history.append('info', { node: n.id, what: 'node rejoined' });
    }
  },
};

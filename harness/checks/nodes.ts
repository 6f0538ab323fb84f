/** nodes-agree, kernel-clean, single-writer and no-hang: what the nodes say about themselves. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GUEST_LOG_DIR } from '../guest.ts';
import { checkKernelClean } from '../oracle/checks/kernel-clean.ts';
import { checkNodesAgree, type NodesAgreeInput } from '../oracle/checks/nodes-agree.ts';
import { checkSingleWriter } from '../oracle/checks/single-writer.ts';
import { verdictFrom, type Finding, type Verdict } from '../oracle/verdict.ts';
import { liveNodes, type CaseContext } from '../runner/context.ts';
import { dmsetup } from '../mirror/ops.ts';
import { fencedNodes } from './observe.ts';

const AGREE_ATTEMPTS = 5;
const CMIRRORD_LOG = `${GUEST_LOG_DIR}/cmirrord.log`;
/** cmirrord answers SIGUSR1 from its main loop; its log is line-buffered. */
const DUMP_WAIT_S = 1;

async function nodesAgreeInput(ctx: CaseContext): Promise<NodesAgreeInput> {
  const nodes = liveNodes(ctx);
  const statuses = await Promise.all(nodes.map(async (n) => ({ node: n.id, text: await dmsetup(n, 'status') })));
  const dumps = await Promise.all(
    nodes.map(async (n) => {
      const r = await n.execOrThrow(`kill -USR1 $(pidof cmirrord) && sleep ${DUMP_WAIT_S} && cat ${CMIRRORD_LOG}`, { timeoutMs: 20_000 });
      return { node: n.id, text: r.stdout };
    }),
  );
  return { statuses, dumps };
}

export async function nodesAgree(ctx: CaseContext): Promise<Verdict> {
  let v: Verdict | undefined;
  // A node that has just finished a region can be a status read ahead of the others: look a few times.
  for (let attempt = 0; attempt < AGREE_ATTEMPTS; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 2000));
    v = await checkNodesAgree(await nodesAgreeInput(ctx));
    if (v.valid !== false) break;
  }
  return v!;
}

export async function kernelClean(ctx: CaseContext): Promise<Verdict> {
  const live = new Set(liveNodes(ctx).map((n) => n.id));
  const logs = await Promise.all(
    ctx.cluster.nodes.map(async (n) => {
      if (live.has(n.id)) return { node: n.id, dmesg: (await n.execOrThrow('dmesg', { timeoutMs: 20_000 })).stdout };
      // A crashed or paused node cannot be asked; its serial console has the kernel log up to then.
      const serial = join(n.dir, 'serial.log');
      return { node: n.id, dmesg: existsSync(serial) ? readFileSync(serial, 'utf8') : '' };
    }),
  );
  return checkKernelClean({ logs, expected: ctx.case.expectKernelMessages });
}

export async function singleWriter(ctx: CaseContext): Promise<Verdict> {
  const history = ctx.history.entries();
  if (ctx.observed.memberships.length === 0) return { valid: 'unknown', invariant: 'single-writer', detail: 'no membership was observed', findings: [] };
  const fenced = fencedNodes(history, ctx.cluster.nodes.map((n) => n.id));
  return checkSingleWriter({ memberships: ctx.observed.memberships, fenced });
}

export async function noHang(ctx: CaseContext): Promise<Verdict> {
  const findings: Finding[] = ctx.hangs.map((h) => ({ kind: 'hang', message: h }));
  return verdictFrom('no-hang', findings, 'every step and call finished within its deadline', 'of a deadline');
}

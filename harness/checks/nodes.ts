/** nodes-agree, kernel-clean and no-hang: what the nodes say about themselves. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mirrorStatus } from '../mirror/ops.ts';
import { verdictFrom, type Finding, type Verdict } from '../oracle/verdict.ts';
import { liveNodes, type CaseContext } from '../runner/context.ts';

const AGREE_ATTEMPTS = 5;

export async function nodesAgree(ctx: CaseContext): Promise<Verdict> {
  const invariant = 'nodes-agree';
  let findings: Finding[] = [];
  // A node that has just finished a region can be a status read ahead of the others: look a few times.
  for (let attempt = 0; attempt < AGREE_ATTEMPTS; attempt++) {
    findings = [];
    for (const m of ctx.mirrors) {
      const seen = await Promise.all(
        liveNodes(ctx).map(async (n) => {
          const s = await mirrorStatus(n, m);
          return { node: n.name, key: `${s.synced}/${s.regions} legs ${s.legHealth} log ${s.comFailure ? 'COM_FAILURE' : (s.logHealth ?? s.logType)}` };
        }),
      );
      const keys = new Set(seen.map((s) => s.key));
      if (keys.size > 1) {
        findings.push({ kind: 'disagree', nodes: seen.map((s) => s.node), message: `${m.name}: ${seen.map((s) => `${s.node} ${s.key}`).join('; ')}` });
      }
    }
    if (findings.length === 0) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  const nodes = liveNodes(ctx).map((n) => n.name).join(', ');
  return verdictFrom(invariant, findings, `${nodes} report the same sync count and device health for every mirror (cmirrord bitmaps not compared in this version)`, `among ${nodes}`);
}

/**
 * Header lines only: a bare "Call Trace:" follows one of these when the kernel complains, and
 * also fills the sysrq task dumps the runner itself asks for when a step hangs.
 */
const BAD_KERNEL_LINE = /\bBUG\b|WARNING|Oops|hung task|blocked for more than|device-mapper:.*error/i;

export function badKernelLines(text: string, expected: readonly RegExp[]): string[] {
  return text.split('\n').filter((l) => BAD_KERNEL_LINE.test(l) && !expected.some((re) => re.test(l)));
}

export async function kernelClean(ctx: CaseContext): Promise<Verdict> {
  const invariant = 'kernel-clean';
  const expected = ctx.case.expectKernelMessages.map((e) => new RegExp(e.pattern));
  const findings: Finding[] = [];
  const live = new Set(liveNodes(ctx).map((n) => n.id));
  for (const n of ctx.cluster.nodes) {
    let text: string;
    let source: string;
    if (live.has(n.id)) {
      text = (await n.execOrThrow('dmesg', { timeoutMs: 20_000 })).stdout;
      source = 'dmesg';
    } else {
      // A crashed or paused node cannot be asked; its serial console has the kernel log up to then.
      source = join(n.dir, 'serial.log');
      text = existsSync(source) ? readFileSync(source, 'utf8') : '';
    }
    for (const line of badKernelLines(text, expected)) {
      findings.push({ kind: 'kernel-message', nodes: [n.name], message: `${n.name} (${source}): ${line.trim()}` });
    }
  }
  return verdictFrom(invariant, findings, 'no BUG, WARNING, Oops, hung task or device-mapper error in any node\'s kernel log', 'in the kernel logs');
}

export async function noHang(ctx: CaseContext): Promise<Verdict> {
  const findings: Finding[] = ctx.hangs.map((h) => ({ kind: 'hang', message: h }));
  return verdictFrom('no-hang', findings, 'every step and call finished within its deadline', 'of a deadline');
}

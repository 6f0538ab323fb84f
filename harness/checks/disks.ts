/** clean-implies-equal and legs-converge: read the log device and the legs from the host while the cluster is frozen. */
import { checkCleanImpliesEqual } from '../oracle/checks/clean-implies-equal.ts';
import { checkLegsConverge } from '../oracle/checks/legs-converge.ts';
import type { Verdict } from '../oracle/verdict.ts';
import { dmsetup } from '../mirror/ops.ts';
import { readFile } from 'node:fs/promises';
import { liveNodes, type CaseContext } from '../runner/context.ts';
import { blockBytes, diskFile, frozen, legInputs, waitInSync } from './common.ts';

export function merge(invariant: string, verdicts: Verdict[]): Verdict {
  if (verdicts.length === 1) return verdicts[0]!;
  const valid = verdicts.some((v) => v.valid === false) ? false : verdicts.every((v) => v.valid === true) ? true : 'unknown';
  return { valid, invariant, detail: verdicts.map((v) => v.detail).join('\n'), findings: verdicts.flatMap((v) => v.findings) };
}

export async function cleanImpliesEqual(ctx: CaseContext): Promise<Verdict> {
  const invariant = 'clean-implies-equal';
  const withLog = ctx.mirrors.filter((m) => m.log);
  if (withLog.length === 0) return { valid: 'unknown', invariant, detail: 'clustered-core: no log device to read', findings: [] };
  const t = ctx.case.topology;
  const verdicts = await frozen(ctx, () =>
    Promise.all(
      withLog.map(async (m) =>
        checkCleanImpliesEqual({
          log: await readFile(diskFile(ctx, m.log!.serial)),
          legs: legInputs(ctx, m),
          regionBytes: t.regionSize,
          blockBytes: blockBytes(ctx),
          mirrorBytes: m.sectors * 512,
          runId: ctx.runId,
        }),
      ),
    ),
  );
  return merge(invariant, verdicts);
}

export async function legsConverge(ctx: CaseContext): Promise<Verdict> {
  await waitInSync(ctx);
  const t = ctx.case.topology;
  const nodes = liveNodes(ctx);
  // A node that leaves with regions marked leaves them dirty in the server's log: cmirrord keeps a departed
  // node's marks (seen after node-crash-during-writes: one region dirty, every node in sync). That is safe,
  // so only a case without faults must end with a log that marks every region clean.
  // Fault steps are logged with event 'start'; the heal-all every case ends with is not a fault step.
  const faultFree = !ctx.history.entries().some((e) => e.type === 'fault' && e.event === 'start');
  const verdicts: Verdict[] = [];
  for (const m of ctx.mirrors) {
    // Read before the freeze (a frozen guest answers nothing); nothing runs between the two at the end of a case.
    const statuses = await Promise.all(nodes.map(async (n) => ({ node: n.id, text: await dmsetup(n, `status ${m.name}`) })));
    verdicts.push(
      await frozen(ctx, async () =>
        checkLegsConverge({
          statuses,
          legs: legInputs(ctx, m),
          regionBytes: t.regionSize,
          blockBytes: blockBytes(ctx),
          mirrorBytes: m.sectors * 512,
          runId: ctx.runId,
          ...(m.log && faultFree ? { log: await readFile(diskFile(ctx, m.log.serial)) } : {}),
        }),
      ),
    );
  }
  return merge('legs-converge', verdicts);
}

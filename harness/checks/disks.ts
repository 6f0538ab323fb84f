/** clean-implies-equal and legs-converge: read the log device and the legs from the host while the cluster is frozen. */
import { checkCleanImpliesEqual } from '../oracle/checks/clean-implies-equal.ts';
import { compareLegs, describeRegionDiff } from '../oracle/legs.ts';
import { verdictFrom, type Finding, type Verdict } from '../oracle/verdict.ts';
import { readFile } from 'node:fs/promises';
import type { CaseContext } from '../runner/context.ts';
import { blockBytes, diskFile, frozen, legInputs, waitInSync } from './common.ts';

function merge(invariant: string, verdicts: Verdict[]): Verdict {
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
  const invariant = 'legs-converge';
  await waitInSync(ctx);
  const t = ctx.case.topology;
  const verdicts = await frozen(ctx, () =>
    Promise.all(
      ctx.mirrors.map(async (m) => {
        const cmp = await compareLegs(legInputs(ctx, m), { regionBytes: t.regionSize, blockBytes: blockBytes(ctx), mirrorBytes: m.sectors * 512 });
        const findings: Finding[] = cmp.diffs.map((d) => ({
          kind: 'legs-differ',
          region: d.region,
          block: d.blocks[0]!.block,
          offset: d.blocks[0]!.offset,
          message: `${m.name} in sync on every node, yet ${describeRegionDiff(d, cmp.labels, ctx.runId)}`,
        }));
        return verdictFrom(invariant, findings, `${m.name}: all ${cmp.regions} regions identical on ${cmp.labels.join(', ')}`, `in ${m.name} after resync`);
      }),
    ),
  );
  return merge(invariant, verdicts);
}

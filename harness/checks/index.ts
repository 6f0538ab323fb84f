/** Every check by name: each gathers its inputs from the cluster and judges them with the oracle's pure check. */
import type { CheckName } from '../case/schema.ts';
import { safeCheck, type Verdict } from '../oracle/verdict.ts';
import type { CaseContext } from '../runner/context.ts';
import { cleanImpliesEqual, legsConverge } from './disks.ts';
import { kernelClean, nodesAgree, noHang, singleWriter } from './nodes.ts';
import { dirtyBeforeWrite, noLostWrites, noStaleReads } from './writes.ts';

export type ClusterCheck = (ctx: CaseContext) => Promise<Verdict>;

export const CHECK_REGISTRY: Record<CheckName, ClusterCheck> = {
  'clean-implies-equal': cleanImpliesEqual,
  'dirty-before-write': dirtyBeforeWrite,
  'no-lost-writes': noLostWrites,
  'no-stale-reads': noStaleReads,
  'legs-converge': legsConverge,
  'nodes-agree': nodesAgree,
  'no-hang': noHang,
  'kernel-clean': kernelClean,
  'single-writer': singleWriter,
};

export function runCheck(ctx: CaseContext, name: CheckName): Promise<Verdict> {
  return safeCheck(name, () => CHECK_REGISTRY[name](ctx));
}

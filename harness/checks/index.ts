/**
 * Every check by name. The three marked "not implemented" belong to the oracle's next version;
 * they say 'unknown' so a case that asks for them still runs, and the report says what was not checked.
 */
import type { CheckName } from '../case/schema.ts';
import { safeCheck, type Verdict } from '../oracle/verdict.ts';
import type { CaseContext } from '../runner/context.ts';
import { cleanImpliesEqual, legsConverge } from './disks.ts';
import { kernelClean, nodesAgree, noHang } from './nodes.ts';
import { noLostWrites } from './writes.ts';

export type ClusterCheck = (ctx: CaseContext) => Promise<Verdict>;

const notImplemented =
  (invariant: CheckName): ClusterCheck =>
  async () => ({ valid: 'unknown', invariant, detail: 'not implemented in this version', findings: [] });

export const CHECK_REGISTRY: Record<CheckName, ClusterCheck> = {
  'clean-implies-equal': cleanImpliesEqual,
  'dirty-before-write': notImplemented('dirty-before-write'),
  'no-lost-writes': noLostWrites,
  'no-stale-reads': notImplemented('no-stale-reads'),
  'legs-converge': legsConverge,
  'nodes-agree': nodesAgree,
  'no-hang': noHang,
  'kernel-clean': kernelClean,
  'single-writer': notImplemented('single-writer'),
};

export function runCheck(ctx: CaseContext, name: CheckName): Promise<Verdict> {
  return safeCheck(name, () => CHECK_REGISTRY[name](ctx));
}

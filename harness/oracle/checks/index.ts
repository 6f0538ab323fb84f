/**
 * The oracle's pure checks by the name a case's `check:` step uses. Each takes inputs the cluster adapters gather
 * (raw tool output, disk bytes, writer logs) and never throws: a check that cannot run says 'unknown'.
 * no-hang is not here: it is judged while the run happens (deadlines), not from collected inputs.
 */
import type { CheckName } from '../../case/schema.ts';
import type { Verdict } from '../verdict.ts';
import { checkCleanImpliesEqual, type CleanImpliesEqualInput } from './clean-implies-equal.ts';
import { checkDirtyBeforeWrite, type DirtyBeforeWriteInput } from './dirty-before-write.ts';
import { checkKernelClean, type KernelCleanInput } from './kernel-clean.ts';
import { checkLegsConverge, type LegsConvergeInput } from './legs-converge.ts';
import { checkMarkedBeforeWrite, type MarkedBeforeWriteInput } from './marked-before-write.ts';
import { checkNoLostWrites, type NoLostWritesInput } from './no-lost-writes.ts';
import { checkNoStaleReads, type NoStaleReadsInput } from './no-stale-reads.ts';
import { checkRequestsAnswered, type RequestsAnsweredInput } from './requests-answered.ts';
import { checkNodesAgree, type NodesAgreeInput } from './nodes-agree.ts';
import { checkSingleWriter, type SingleWriterInput } from './single-writer.ts';

export interface CheckInputs {
  'clean-implies-equal': CleanImpliesEqualInput;
  'dirty-before-write': DirtyBeforeWriteInput;
  'no-lost-writes': NoLostWritesInput;
  'no-stale-reads': NoStaleReadsInput;
  'legs-converge': LegsConvergeInput;
  'nodes-agree': NodesAgreeInput;
  'kernel-clean': KernelCleanInput;
  'single-writer': SingleWriterInput;
  'marked-before-write': MarkedBeforeWriteInput;
  'requests-answered': RequestsAnsweredInput;
}

export type PureCheckName = keyof CheckInputs & CheckName;
/** Checks the adapters judge themselves (today only no-hang). */
export type AdapterCheckName = Exclude<CheckName, PureCheckName>;

export const CHECK_FUNCTIONS: { readonly [K in PureCheckName]: (input: CheckInputs[K]) => Promise<Verdict> } = {
  'clean-implies-equal': checkCleanImpliesEqual,
  'dirty-before-write': checkDirtyBeforeWrite,
  'no-lost-writes': checkNoLostWrites,
  'no-stale-reads': checkNoStaleReads,
  'legs-converge': checkLegsConverge,
  'nodes-agree': checkNodesAgree,
  'kernel-clean': checkKernelClean,
  'single-writer': checkSingleWriter,
  'marked-before-write': checkMarkedBeforeWrite,
  'requests-answered': checkRequestsAnswered,
};

export function isPureCheck(name: CheckName): name is PureCheckName {
  return Object.hasOwn(CHECK_FUNCTIONS, name);
}

export { inFlightAt, type InFlightWrite, type DirtyBeforeWriteSample } from './dirty-before-write.ts';
export type { Membership } from './single-writer.ts';
export type {
  CleanImpliesEqualInput,
  DirtyBeforeWriteInput,
  KernelCleanInput,
  LegsConvergeInput,
  MarkedBeforeWriteInput,
  NoLostWritesInput,
  NoStaleReadsInput,
  NodesAgreeInput,
  RequestsAnsweredInput,
  SingleWriterInput,
};

/**
 * Invariant 2: with every guest paused and no recovery running, a region whose on-disk log bit is 1 (clean)
 * has byte-identical content on every leg. Regions with bit 0 may differ and are not read.
 */
import { decodeOrFinding, regionCount } from '../disk-log.ts';
import { compareLegs, legDiffFindings, type LegInput } from '../legs.ts';
import { safeCheck, verdictFrom, type Finding, type Verdict } from '../verdict.ts';

export const INVARIANT = 'clean-implies-equal';

export interface CleanImpliesEqualInput {
  /** The log device's first bytes (at least cmirrord's header + bitmap). */
  log: Buffer;
  legs: LegInput[];
  regionBytes: number;
  blockBytes: number;
  /** The mirror's length from its table; without it, the log's region count decides. */
  mirrorBytes?: number;
  /** The run's id, so a block left by another run is marked as such. */
  runId?: number;
  /** What these bytes are, for the findings: "sample 3", "end". */
  where?: string;
}

export async function cleanImpliesEqual(input: CleanImpliesEqualInput): Promise<Verdict> {
  const expectedRegions = input.mirrorBytes === undefined ? undefined : regionCount(input.mirrorBytes, input.regionBytes);
  const decoded = decodeOrFinding(input.log, expectedRegions, input.where);
  if ('finding' in decoded) return verdictFrom(INVARIANT, [decoded.finding], '', `in the log device${input.where ? ` (${input.where})` : ''}`, [{ n: 0, what: 'clean regions compared' }]);
  const log = decoded.log;
  const mirrorBytes = input.mirrorBytes ?? log.regions * input.regionBytes;
  const cmp = await compareLegs(input.legs, {
    regionBytes: input.regionBytes,
    blockBytes: input.blockBytes,
    mirrorBytes,
    only: (r) => r < log.regions && log.clean(r),
  });
  if (cmp.regions !== log.regions) {
    throw new Error(`the log has ${log.regions} regions but the legs span ${cmp.regions}`);
  }
  const at = input.where ? `${input.where}: ` : '';
  const findings: Finding[] = legDiffFindings(cmp, `${at}clean `, input.runId);
  const legs = cmp.labels.join(', ');
  return verdictFrom(
    INVARIANT,
    findings,
    `${at}${log.regions} regions: ${log.cleanCount} clean and identical on ${legs}; ${log.dirtyRegions.length} dirty, not compared`,
    `among ${log.cleanCount} clean regions of ${log.regions} (legs ${legs})`,
    [{ n: log.cleanCount, what: 'clean regions compared' }, { n: log.regions, what: 'regions' }],
  );
}

export const checkCleanImpliesEqual = (input: CleanImpliesEqualInput) => safeCheck(INVARIANT, () => cleanImpliesEqual(input));

/**
 * Invariant 4 (end state): once faults have stopped and every node reports the mirror fully in sync
 * (SYNCED == REGIONS), every region is byte-identical on every leg, and a disk log says so too: every
 * region is clean on the log device. The kernel clears each recovered region and flushes the log
 * (dm-region-hash.c dm_rh_update_states), and the server writes its clean bits on that flush (lvm2
 * cmirrord functions.c clog_flush -> write_log); a log left dirty after a complete resync means the
 * log device no longer records what the cluster knows, which a later crash would act on.
 * Before the resync has finished it cannot judge: 'unknown'.
 */
import { decodeOrFinding, ranges, regionCount } from '../disk-log.ts';
import { parseDmStatus } from '../dm-status.ts';
import { compareLegs, legDiffFindings, type LegInput } from '../legs.ts';
import { safeCheck, unknownVerdict, verdictFrom, type Finding, type Verdict } from '../verdict.ts';

export const INVARIANT = 'legs-converge';

export interface LegsConvergeInput {
  /** `dmsetup status` output of every node that has the mirror, raw. */
  statuses: Array<{ node: number; text: string }>;
  /** Which mirror of the status output; needed only when a node lists several. */
  mirror?: string;
  legs: LegInput[];
  regionBytes: number;
  blockBytes: number;
  mirrorBytes: number;
  runId?: number;
  /** The log device's bytes (clustered-disk), read after the statuses; absent for clustered-core. */
  log?: Buffer;
}

export async function legsConverge(input: LegsConvergeInput): Promise<Verdict> {
  const regions = regionCount(input.mirrorBytes, input.regionBytes);
  if (input.statuses.length === 0) throw new Error('no node status given: cannot tell whether resync finished');
  const behind: string[] = [];
  for (const { node, text } of input.statuses) {
    const mirrors = parseDmStatus(text);
    const m = input.mirror === undefined && mirrors.length === 1 ? mirrors[0] : mirrors.find((s) => s.name === input.mirror);
    if (!m) throw new Error(`node${node}: no mirror ${JSON.stringify(input.mirror ?? '')} among ${mirrors.map((s) => s.name).join(', ')}`);
    if (m.regions !== regions) throw new Error(`node${node} reports ${m.regions} regions; the mirror's geometry implies ${regions}`);
    if (m.log.kind === 'com-failure' || m.synced !== m.regions) behind.push(`node${node} ${m.synced}/${m.regions}${m.log.kind === 'com-failure' ? ' (COM_FAILURE)' : ''}`);
  }
  if (behind.length) {
    return unknownVerdict(INVARIANT, `resync not finished, cannot judge: ${behind.join(', ')}`);
  }
  const cmp = await compareLegs(input.legs, { regionBytes: input.regionBytes, blockBytes: input.blockBytes, mirrorBytes: input.mirrorBytes });
  const findings: Finding[] = legDiffFindings(cmp, 'in sync on every node but ', input.runId);
  if (input.log) {
    const decoded = decodeOrFinding(input.log, regions);
    const dirty = 'log' in decoded ? decoded.log.dirtyRegions : [];
    if ('finding' in decoded) findings.push(decoded.finding);
    if (dirty.length) {
      findings.push({
        kind: 'log-not-clean',
        region: dirty[0]!,
        message: `in sync on every node but the disk log marks ${dirty.length} of ${regions} regions dirty: ${ranges(dirty)}`,
      });
    }
  }
  const legs = cmp.labels.join(', ');
  return verdictFrom(
    INVARIANT,
    findings,
    `${regions} regions in sync on ${input.statuses.length} nodes and identical on ${legs}${input.log ? ', all clean on the log device' : ''}`,
    `among ${regions} in-sync regions (legs ${legs})`,
    [{ n: regions, what: 'regions' }, { n: input.statuses.length, what: 'nodes' }],
  );
}

export const checkLegsConverge = (input: LegsConvergeInput) => safeCheck(INVARIANT, () => legsConverge(input));

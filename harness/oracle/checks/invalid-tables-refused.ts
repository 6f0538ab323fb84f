/**
 * Invariant: a malformed mirror table is refused, and nothing of it stays behind. Every table a
 * `mirror: load-invalid` step tried (guest/mirror/table.ts invalidMirrorTables: the argument checks of
 * dm-log-userspace's userspace_ctr and cmirrord's clog_ctr/_clog_ctr/find_disk_path, and a log that
 * constructs but whose mirror then fails in dm-raid1's mirror_ctr) must have made `dmsetup create` fail
 * with no device left, and no node's cmirrord dump may still hold a log under the UUID it asked for, on
 * the official or the pending list: the log a failed constructor left would never be destroyed.
 */
import { lastCmirrordDump } from '../cmirrord-dump.ts';
import { safeCheck, unknownVerdict, verdictFrom, type Finding, type Verdict } from '../verdict.ts';

export const INVARIANT = 'invalid-tables-refused';

export interface InvalidTablesInput {
  loads: Array<{ node: number; mirror: number; variant: string; uuid: string; refusedBy: string; refused: boolean; leftDevice: boolean; error: string }>;
  /** The last cmirrord SIGUSR1 dump of every live node at the point. */
  dumps: Array<{ node: number; text: string }>;
}

export function invalidTablesRefused(input: InvalidTablesInput): Verdict {
  if (input.loads.length === 0) return unknownVerdict(INVARIANT, 'no malformed table was loaded (a `mirror: load-invalid` step)');
  const findings: Finding[] = [];
  for (const l of input.loads) {
    if (!l.refused) {
      findings.push({ kind: 'invalid-table-accepted', nodes: [`node${l.node}`], message: `node${l.node}: the ${l.variant} table of mirror ${l.mirror} loaded; ${l.refusedBy} should have refused it` });
    } else if (l.leftDevice) {
      findings.push({ kind: 'device-left-behind', nodes: [`node${l.node}`], message: `node${l.node}: the ${l.variant} table of mirror ${l.mirror} was refused (${l.error}) but its device stayed` });
    }
  }
  const asked = new Map(input.loads.map((l) => [l.uuid, l.variant]));
  for (const d of input.dumps) {
    for (const log of lastCmirrordDump(d.text).logs) {
      const variant = asked.get(log.uuid);
      if (variant === undefined) continue;
      findings.push({
        kind: 'log-left-behind',
        nodes: [`node${d.node}`],
        message: `node${d.node}: cmirrord still holds the log of the refused ${variant} table (${log.uuid}) on its ${log.pending ? 'pending' : 'official'} list`,
      });
    }
  }
  const nodes = new Set(input.loads.map((l) => l.node)).size;
  return verdictFrom(
    INVARIANT,
    findings,
    `${input.loads.length} malformed tables on ${nodes} nodes refused, none left a device, and no cmirrord of ${input.dumps.length} keeps a log of them`,
    `among ${input.loads.length} malformed tables on ${nodes} nodes`,
    [{ n: input.loads.length, what: 'malformed tables' }, { n: input.dumps.length, what: 'cmirrord dumps' }],
  );
}

export const checkInvalidTablesRefused = (input: InvalidTablesInput) => safeCheck(INVARIANT, () => invalidTablesRefused(input));

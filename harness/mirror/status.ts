/**
 * Parser for a dm-raid1 status line (pure):
 *   `0 LEN mirror 2 L0 L1 SYNCED/REGIONS 1 AA 3 clustered-disk M:m A`
 *   `0 LEN mirror 2 L0 L1 SYNCED/REGIONS 1 AA 1 clustered-core`
 *   `0 LEN mirror 2 L0 L1 SYNCED/REGIONS 1 AA userspace 1 COM_FAILURE` (cmirrord not reachable)
 */

export interface MirrorStatus {
  legs: string[];
  /** One character per leg: A alive, D dead, S sync failure, R read failure, F flush failure, U unknown. */
  legHealth: string;
  synced: number;
  regions: number;
  /** The log type cmirrord reports; undefined on COM_FAILURE. */
  logType?: string;
  logDevice?: string;
  /** A or D for a disk log. */
  logHealth?: string;
  comFailure: boolean;
  raw: string;
}

export function parseMirrorStatus(line: string): MirrorStatus {
  const raw = line.trim();
  const tok = raw.split(/\s+/);
  const bad = (why: string) => new Error(`not a mirror status line (${why}): "${raw}"`);
  if (tok[2] !== 'mirror') throw bad('third field is not "mirror"');
  const nLegs = Number(tok[3]);
  if (!Number.isInteger(nLegs) || nLegs < 1) throw bad('no leg count');
  const legs = tok.slice(4, 4 + nLegs);
  let i = 4 + nLegs;
  const sync = /^(\d+)\/(\d+)$/.exec(tok[i++] ?? '');
  if (!sync || legs.length !== nLegs) throw bad('no SYNCED/REGIONS');
  if (tok[i++] !== '1') throw bad('health field count is not 1');
  const legHealth = tok[i++] ?? '';
  if (legHealth.length !== nLegs) throw bad(`health "${legHealth}" does not have one character per leg`);
  const rest = tok.slice(i);
  const base = { legs, legHealth, synced: Number(sync[1]), regions: Number(sync[2]), raw };
  if (rest[0] === 'userspace' && rest[2] === 'COM_FAILURE') return { ...base, comFailure: true };
  const nArgs = Number(rest[0]);
  if (!Number.isInteger(nArgs) || rest.length !== nArgs + 1) throw bad('log status field count does not match');
  const [logType, logDevice, logHealth] = rest.slice(1);
  return { ...base, logType, ...(logDevice !== undefined ? { logDevice } : {}), ...(logHealth !== undefined ? { logHealth } : {}), comFailure: false };
}

export function inSync(s: MirrorStatus): boolean {
  return !s.comFailure && s.regions > 0 && s.synced === s.regions;
}

export function isDegraded(s: MirrorStatus): boolean {
  return /[^A]/.test(s.legHealth) || (s.logHealth !== undefined && s.logHealth !== 'A');
}

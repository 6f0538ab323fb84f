/**
 * Parser for `dmsetup status` of a mirror (the STATUSTYPE_INFO line), as verified in the sources
 * (K = linux-source-6.1, L = lvm2 2.03.16):
 *   - K drivers/md/dm-raid1.c `mirror_status`: "%d " nr_mirrors, "%s " per leg (dev->name, i.e. "major:minor"),
 *     "%llu/%llu 1 %s " sync count / nr_regions and one health char per leg, then the log's own status.
 *     dmsetup puts "START LENGTH mirror " in front, and "NAME: " before that when no device is named.
 *   - K `device_status_char`: 'A' no errors; otherwise by error type in this order: 'F' flush, 'D' write,
 *     'S' sync (recovery read), 'R' read, 'U' unknown.
 *   - K dm-log-userspace-base.c `userspace_status`: the log status is whatever cmirrord answers to
 *     DM_ULOG_STATUS_INFO; if the request fails it is "userspace 1 COM_FAILURE" (log->type->name is "userspace").
 *     While no daemon listens the request is retried forever (-ESRCH loop in userspace_do_request), so
 *     COM_FAILURE means the daemon answered with an error (e.g. it does not know the log), not that it is gone;
 *     the sync count in front is then 0 (userspace_get_sync_count returns 0 on failure).
 *   - L daemons/cmirrord/functions.c `disk_status_info`: "3 clustered-disk %d:%d %c" (log device, 'D' when
 *     log_dev_failed else 'A'); `core_status_info`: "1 clustered-core".
 *   - K dm-log.c core/disk logs print the same shapes ("1 core", "3 disk M:m A|D|F"); parsed alike.
 * Device numbers differ between nodes (each guest allocates its own dm minors), so callers comparing nodes
 * should compare counts and health, not `dev`.
 */

export const LEG_HEALTH = { A: 'alive', F: 'flush failure', D: 'write failure (dead)', S: 'sync failure', R: 'read failure', U: 'unknown failure' } as const;
export type LegHealth = keyof typeof LEG_HEALTH;

export type LogStatus =
  /** dev is "major:minor" as this node sees it; health 'A' alive, 'D' failed (cmirrord), 'F' flush failure (kernel disk log). */
  | { kind: 'disk'; type: string; dev: string; health: string }
  | { kind: 'core'; type: string }
  | { kind: 'com-failure'; type: string }
  /** Any other well-formed log status: "N ARG1 .. ARGN". */
  | { kind: 'other'; type: string; args: string[] };

export interface MirrorStatus {
  /** From "NAME: " when dmsetup printed several devices; '' for `dmsetup status NAME`. */
  name: string;
  start: number;
  length: number;
  legs: Array<{ dev: string; health: LegHealth }>;
  synced: number;
  regions: number;
  log: LogStatus;
  line: string;
}

const int = (s: string | undefined, what: string, line: string): number => {
  if (s === undefined || !/^\d+$/.test(s)) throw new Error(`mirror status: ${what} is ${JSON.stringify(s)}, not a number, in: ${line}`);
  return Number(s);
};

function parseLog(tokens: string[], line: string): LogStatus {
  const [first, second, third] = tokens;
  if (first !== undefined && !/^\d+$/.test(first)) {
    if (second === '1' && third === 'COM_FAILURE' && tokens.length === 3) return { kind: 'com-failure', type: first };
    throw new Error(`mirror status: unrecognised log status "${tokens.join(' ')}" in: ${line}`);
  }
  const n = int(first, 'log argument count', line);
  const args = tokens.slice(1);
  if (args.length !== n || n < 1) throw new Error(`mirror status: log status says ${n} arguments, has ${args.length}, in: ${line}`);
  const type = args[0]!;
  if (n === 3 && /disk$/.test(type)) {
    if (!/^\d+:\d+$/.test(args[1]!)) throw new Error(`mirror status: log device "${args[1]}" is not major:minor in: ${line}`);
    return { kind: 'disk', type, dev: args[1]!, health: args[2]! };
  }
  if (n === 1 && /core$/.test(type)) return { kind: 'core', type };
  return { kind: 'other', type, args: args.slice(1) };
}

/** One mirror status line, with or without the "NAME: " prefix; throws naming what is malformed. */
export function parseMirrorStatus(line: string): MirrorStatus {
  const text = line.trim();
  const named = /^(\S+):\s+(\d+\s.*)$/.exec(text);
  const name = named ? named[1]! : '';
  const tokens = (named ? named[2]! : text).split(/\s+/);
  const start = int(tokens[0], 'start', line);
  const length = int(tokens[1], 'length', line);
  if (tokens[2] !== 'mirror') throw new Error(`not a mirror status (target "${tokens[2]}"): ${line}`);
  const nLegs = int(tokens[3], 'leg count', line);
  const devs = tokens.slice(4, 4 + nLegs);
  const counts = /^(\d+)\/(\d+)$/.exec(tokens[4 + nLegs] ?? '');
  if (devs.length !== nLegs || !counts) throw new Error(`mirror status: expected ${nLegs} legs then SYNCED/REGIONS in: ${line}`);
  if (tokens[5 + nLegs] !== '1') throw new Error(`mirror status: expected "1" before the health chars in: ${line}`);
  const health = tokens[6 + nLegs] ?? '';
  if (health.length !== nLegs || [...health].some((c) => !(c in LEG_HEALTH))) {
    throw new Error(`mirror status: health "${health}" is not one of ${Object.keys(LEG_HEALTH).join('')} per leg (${nLegs}) in: ${line}`);
  }
  return {
    name,
    start,
    length,
    legs: devs.map((dev, i) => ({ dev, health: health[i] as LegHealth })),
    synced: Number(counts[1]),
    regions: Number(counts[2]),
    log: parseLog(tokens.slice(7 + nLegs), line),
    line: text,
  };
}

/**
 * Every mirror in the output of `dmsetup status [NAME]`. Lines of other targets (the dm-linear, dm-error or
 * dm-delay devices the harness stacks under legs) are skipped; a malformed mirror line, or no mirror at all, throws.
 */
export function parseDmStatus(text: string): MirrorStatus[] {
  const mirrors: MirrorStatus[] = [];
  for (const line of text.split('\n')) {
    if (/^(\S+:\s+)?\d+\s+\d+\s+mirror\b/.test(line.trim())) mirrors.push(parseMirrorStatus(line));
  }
  if (mirrors.length === 0) throw new Error(`no mirror in dmsetup status output: ${JSON.stringify(text.slice(0, 200))}`);
  return mirrors;
}

/** Every region in sync, as far as the node can tell: a log the daemon does not answer for is not. */
export function inSync(s: MirrorStatus): boolean {
  return s.log.kind !== 'com-failure' && s.regions > 0 && s.synced === s.regions;
}

/** A leg that is not alive, or a disk log reported failed. */
export function isDegraded(s: MirrorStatus): boolean {
  return s.legs.some((l) => l.health !== 'A') || (s.log.kind === 'disk' && s.log.health !== 'A');
}

/** "A" -> "alive"; the log state the way a finding names it: "clustered-disk A", "userspace COM_FAILURE". */
export function describeLog(log: LogStatus): string {
  switch (log.kind) {
    case 'disk':
      return `${log.type} ${log.health}`;
    case 'core':
      return log.type;
    case 'com-failure':
      return `${log.type} COM_FAILURE`;
    case 'other':
      return [log.type, ...log.args].join(' ');
  }
}

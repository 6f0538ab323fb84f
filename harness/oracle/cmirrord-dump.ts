/**
 * Parser for cmirrord's SIGUSR1 state dump, as printed by lvm2 2.03.16 (L = lvm2 source):
 *   - L daemons/cmirrord/clogd.c `process_signal`: SIGUSR1 and SIGUSR2 run log_debug() then cluster_debug(),
 *     from the main loop, so a dump is never interleaved with other cmirrord output.
 *   - L logging.h LOG_OUTPUT: with -f (no syslog) each line goes to stdout (LOG_ERROR/LOG_PRINT are below
 *     LOG_NOTICE's threshold) prefixed by `log_tabbing` tabs; under syslog it gets "%s" tabs too, plus whatever
 *     the syslog daemon puts in front ("... cmirrord[PID]: "). Both prefixes are stripped here.
 *   - L functions.c `log_debug`:
 *       ""  /  "LOG COMPONENT DEBUGGING::"  /  "Official log list:"  /  "Pending log list:"
 *       per pending log: UUID / "sync_bits:" / bits / "clean_bits:" / bits
 *       per official log: UUID / "  recoverer        : %u" / "  recovering_region: %llu" /
 *         "  recovery_halted  : YES|NO" / "sync_bits:" / bits / "clean_bits:" / bits / "Validating SHORT::" /
 *         "  lc->region_count = %u" / "  lc->sync_count = %llu" / "  next zero bit  = %llu" /
 *         ["ADJUSTING SYNC_COUNT"] / "Resync request history:" / "%d:%d) %s"...
 *     The UUID line is the full uuid; SHORT is its last 8 characters (SHORT_UUID in logging.h).
 *   - L functions.c `print_bits`: ceil(nbits/8) bytes of the bitset's words as unsigned chars, 16 per line:
 *     "[%3d - %3d]" (first and first+15 byte index) then " %.2X" per byte. dm_bitset_t words are host u32s, so on
 *     x86 byte k holds bits 8k..8k+7, bit b of the byte = region 8k+b: the disk log's layout (disk-log.ts).
 *     recovering_region is (uint64_t)-1 when none is being recovered, so it is kept as a bigint.
 *   - L cluster.c `cluster_debug`: "" / "CLUSTER COMPONENT DEBUGGING::" / per CPG group: "SHORT::" /
 *     "  lowest_id         : %u" / "  state             : INVALID|VALID|LEAVING|UNKNOWN" /
 *     "  cpg_state         : %d" / "  free_me           : %d" / "  delay             : %d" /
 *     "  resend_requests   : %d" / "  checkpoints_needed: %d" / "  CKPTs waiting     : %d" /
 *     "  Working list:" / "  TYPE/SEQ"... / "  Startup list:" / "  TYPE/SEQ"... / "Command History:" / "%d:%d) %s"...
 */

export interface CmirrordLogState {
  uuid: string;
  /** Last 8 characters of the uuid: how cmirrord's cluster part and kernel timeouts name the log. */
  short: string;
  /** On log_pending_list (constructed, not yet resumed): only the bitmaps are printed. */
  pending: boolean;
  recoverer?: number;
  recoveringRegion?: bigint;
  recoveryHalted?: boolean;
  regionCount?: number;
  syncCount?: number;
  nextZeroBit?: bigint;
  /** The bitsets' bytes as printed (ceil(bits/8) of them); bit i = bytes[i>>3] >> (i&7) & 1. */
  syncBits: Uint8Array;
  cleanBits: Uint8Array;
  resyncHistory: string[];
}

export interface CmirrordGroupState {
  short: string;
  lowestId: number;
  state: string;
  cpgState: number;
  freeMe: number;
  delay: number;
  resendRequests: number;
  checkpointsNeeded: number;
  ckptsWaiting: number;
  working: string[];
  startup: string[];
  history: string[];
}

export interface CmirrordDump {
  logs: CmirrordLogState[];
  groups: CmirrordGroupState[];
  /** 1-based line of "LOG COMPONENT DEBUGGING::" in the text parsed. */
  line: number;
}

const PREFIX = /^.*?cmirrord\[\d+\]:\s?/;
const BITS_ROW = /^\[\s*(\d+) - \s*(\d+)\]((?: [0-9A-F]{2})+)$/;
const HISTORY = /^\d+:\d+\) /;

function clean(line: string): string {
  return line.replace(PREFIX, '').replace(/^\t+/, '').replace(/\s+$/, '');
}

/** Reads lines from `at`, with one-line lookahead; errors name the 1-based line. */
class Cursor {
  constructor(
    private readonly lines: string[],
    public at: number,
  ) {}
  peek(): string | undefined {
    return this.lines[this.at];
  }
  next(): string {
    const l = this.lines[this.at];
    if (l === undefined) throw new Error(`cmirrord dump ends early at line ${this.at + 1}`);
    this.at++;
    return l;
  }
  expect(re: RegExp, what: string): RegExpExecArray {
    const l = this.next();
    const m = re.exec(l);
    if (!m) throw new Error(`cmirrord dump line ${this.at}: expected ${what}, got ${JSON.stringify(l)}`);
    return m;
  }
}

function bits(c: Cursor): Uint8Array {
  const bytes: number[] = [];
  for (let l = c.peek(); l !== undefined; l = c.peek()) {
    const m = BITS_ROW.exec(l);
    if (!m) break;
    if (Number(m[1]) !== bytes.length) throw new Error(`cmirrord dump line ${c.at + 1}: bitmap row starts at byte ${m[1]}, expected ${bytes.length}`);
    for (const h of m[3]!.trim().split(' ')) bytes.push(parseInt(h, 16));
    c.next();
  }
  return Uint8Array.from(bytes);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function field(c: Cursor, label: string): string {
  const m = c.expect(new RegExp(`^  ${escape(label)}\\s*[:=] ?(.*)$`), `"  ${label}"`);
  return m[1]!;
}

const num = (s: string, c: Cursor): number => {
  if (!/^-?\d+$/.test(s)) throw new Error(`cmirrord dump line ${c.at}: ${JSON.stringify(s)} is not a number`);
  return Number(s);
};

const big = (s: string, c: Cursor): bigint => {
  if (!/^\d+$/.test(s)) throw new Error(`cmirrord dump line ${c.at}: ${JSON.stringify(s)} is not an unsigned number`);
  return BigInt(s);
};

function logEntry(c: Cursor): CmirrordLogState {
  const uuid = c.next();
  const short = uuid.length > 8 ? uuid.slice(-8) : uuid;
  const pending = c.peek() === 'sync_bits:';
  const log: CmirrordLogState = { uuid, short, pending, syncBits: new Uint8Array(), cleanBits: new Uint8Array(), resyncHistory: [] };
  if (!pending) {
    log.recoverer = num(field(c, 'recoverer'), c);
    log.recoveringRegion = big(field(c, 'recovering_region'), c);
    const halted = field(c, 'recovery_halted');
    if (halted !== 'YES' && halted !== 'NO') throw new Error(`cmirrord dump line ${c.at}: recovery_halted is ${JSON.stringify(halted)}`);
    log.recoveryHalted = halted === 'YES';
  }
  c.expect(/^sync_bits:$/, '"sync_bits:"');
  log.syncBits = bits(c);
  c.expect(/^clean_bits:$/, '"clean_bits:"');
  log.cleanBits = bits(c);
  if (pending) return log;
  c.expect(new RegExp(`^Validating ${escape(short)}::$`), `"Validating ${short}::"`);
  log.regionCount = num(field(c, 'lc->region_count'), c);
  log.syncCount = num(field(c, 'lc->sync_count'), c);
  log.nextZeroBit = big(field(c, 'next zero bit'), c);
  if (c.peek() === 'ADJUSTING SYNC_COUNT') c.next();
  c.expect(/^Resync request history:$/, '"Resync request history:"');
  while (HISTORY.test(c.peek() ?? '')) log.resyncHistory.push(c.next());
  return log;
}

function requests(c: Cursor, header: string): string[] {
  c.expect(new RegExp(`^  ${header}$`), `"  ${header}"`);
  const out: string[] = [];
  while (/^  \S+\/\d+$/.test(c.peek() ?? '')) out.push(c.next().trim());
  return out;
}

function groupEntry(c: Cursor): CmirrordGroupState {
  const short = c.expect(/^(.+)::$/, '"SHORT_UUID::"')[1]!;
  const g: CmirrordGroupState = {
    short,
    lowestId: num(field(c, 'lowest_id'), c),
    state: field(c, 'state'),
    cpgState: num(field(c, 'cpg_state'), c),
    freeMe: num(field(c, 'free_me'), c),
    delay: num(field(c, 'delay'), c),
    resendRequests: num(field(c, 'resend_requests'), c),
    checkpointsNeeded: num(field(c, 'checkpoints_needed'), c),
    ckptsWaiting: num(field(c, 'CKPTs waiting'), c),
    working: requests(c, 'Working list:'),
    startup: requests(c, 'Startup list:'),
    history: [],
  };
  c.expect(/^Command History:$/, '"Command History:"');
  while (HISTORY.test(c.peek() ?? '')) g.history.push(c.next());
  return g;
}

/** Whether the line after the current one is a log's first field, i.e. the current line is a uuid. */
const startsLog = (c: Cursor, lines: string[]) => {
  const l = c.peek();
  if (l === undefined || l === '' || l === 'CLUSTER COMPONENT DEBUGGING::' || l === 'LOG COMPONENT DEBUGGING::') return false;
  const after = lines[c.at + 1];
  return after === 'sync_bits:' || (after ?? '').startsWith('  recoverer ');
};

/**
 * Every SIGUSR1 dump in a cmirrord log, oldest first. Text around the dumps is ignored; a dump that does not
 * have the shape the source prints throws, naming the line.
 */
export function parseCmirrordDumps(text: string): CmirrordDump[] {
  const lines = text.split('\n').map(clean);
  const dumps: CmirrordDump[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== 'LOG COMPONENT DEBUGGING::') continue;
    const c = new Cursor(lines, i + 1);
    c.expect(/^Official log list:$/, '"Official log list:"');
    c.expect(/^Pending log list:$/, '"Pending log list:"');
    const logs: CmirrordLogState[] = [];
    while (startsLog(c, lines)) logs.push(logEntry(c));
    const groups: CmirrordGroupState[] = [];
    if (c.peek() === '') c.next();
    if (c.peek() === 'CLUSTER COMPONENT DEBUGGING::') {
      c.next();
      while (/^.+::$/.test(c.peek() ?? '') && c.peek() !== 'LOG COMPONENT DEBUGGING::') groups.push(groupEntry(c));
    }
    dumps.push({ logs, groups, line: i + 1 });
    i = c.at - 1;
  }
  return dumps;
}

/** The most recent dump: the state at the last SIGUSR1. Throws when the text holds none. */
export function lastCmirrordDump(text: string): CmirrordDump {
  const dumps = parseCmirrordDumps(text);
  const last = dumps[dumps.length - 1];
  if (!last) throw new Error('no cmirrord state dump ("LOG COMPONENT DEBUGGING::") in the log');
  return last;
}

export function bitSet(bytes: Uint8Array, i: number): boolean {
  return (((bytes[i >> 3] ?? 0) >> (i & 7)) & 1) === 1;
}

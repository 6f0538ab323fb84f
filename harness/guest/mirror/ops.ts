/**
 * Mirror operations on guests through dmsetup. The guests run no udev, so every call says
 * --noudevsync and `dmsetup mknodes` makes the /dev/mapper nodes the tables refer to.
 */
import type { Topology } from '../../case/schema.ts';
import type { Node } from '../cluster/node.ts';
import { errorMessage } from '../../base/errors.ts';
import { poll } from '../../base/poll.ts';
import { parseMirrorStatus, type MirrorStatus } from '../../oracle/dm-status.ts';
import { shellQuote } from '../../base/proc.ts';
import { layerTable, mirrorTable, type InvalidTable, type MirrorLayout } from './table.ts';

export const DMSETUP = 'dmsetup --noudevsync';
/** `dmsetup status` blocks while cmirrord is down; a call this long is itself news. */
export const DMSETUP_TIMEOUT_MS = 30_000;

export async function dmsetup(node: Node, args: string, timeoutMs = DMSETUP_TIMEOUT_MS): Promise<string> {
  const r = await node.execOrThrow(`${DMSETUP} ${args}`, { timeoutMs });
  return r.stdout;
}

function tableArgs(verb: 'create' | 'load', dm: string, table: string): string {
  return `${verb} ${dm} --table ${shellQuote(table)}`;
}

/**
 * The layers under the legs and the log (dm-linear, or the table in `tables` for a layer a fault armed), made
 * in one guest command: each command is a guest shell start, about half a second in a loaded TCG guest.
 * The layers stay when the mirror then fails to load, for remove().
 */
export async function createLayers(node: Node, t: Topology, m: MirrorLayout, tables: ReadonlyMap<string, string> = new Map()): Promise<void> {
  const layers = [
    ...m.legs.map((l) => tableArgs('create', l.dm, tables.get(l.dm) ?? layerTable(t, 'leg', l.serial))),
    ...(m.log ? [tableArgs('create', m.log.dm, tables.get(m.log.dm) ?? layerTable(t, 'log', m.log.serial))] : []),
    'mknodes',
  ];
  await node.execOrThrow(layers.map((a) => `${DMSETUP} ${a}`).join(' && '), { timeoutMs: DMSETUP_TIMEOUT_MS });
}

/** The log layer's major:minor on `node`, for a table that names the log device by number. */
async function logDevnum(node: Node, m: MirrorLayout): Promise<string | undefined> {
  if (!m.log || m.logDevice !== 'devnum') return undefined;
  return (await dmsetup(node, `info -c --noheadings --separator : -o major,minor ${m.log.dm}`)).trim();
}

/** The mirror over its layers, with its /dev/mapper node: the one command that waits on cmirrord. */
export async function loadMirror(node: Node, m: MirrorLayout, uuid: string, timeoutMs: number, inSync = false): Promise<void> {
  const table = mirrorTable(m, uuid, inSync, await logDevnum(node, m));
  await node.execOrThrow(`${DMSETUP} ${tableArgs('create', m.name, table)} && ${DMSETUP} mknodes ${m.name}`, { timeoutMs });
}

/** The layers, then the mirror on top (see createLayers and loadMirror). */
export async function createMirror(node: Node, t: Topology, m: MirrorLayout, uuid: string, timeoutMs: number, tables: ReadonlyMap<string, string> = new Map(), inSync = false): Promise<void> {
  await createLayers(node, t, m, tables);
  await loadMirror(node, m, uuid, timeoutMs, inSync);
}

/** Removes the mirror and its layers, whichever of them exist. */
export async function removeMirror(node: Node, m: MirrorLayout, timeoutMs: number): Promise<void> {
  const names = [m.name, ...m.legs.map((l) => l.dm), ...(m.log ? [m.log.dm] : [])];
  for (const dm of names) {
    const r = await node.exec(`${DMSETUP} info ${dm} >/dev/null 2>&1`, { timeoutMs: DMSETUP_TIMEOUT_MS });
    if (r.code === 0) await dmsetup(node, `remove ${dm}`, timeoutMs);
  }
}

/** What became of one malformed table: dmsetup's exit code, its first words, and whether a device stayed. */
export interface InvalidTableLoad {
  variant: string;
  refused: boolean;
  error: string;
  /** A device of that name existed after dmsetup returned (removed then, so the next load starts clean). */
  leftDevice: boolean;
}

/**
 * Tries each malformed table as device `dm` on `node`, in one guest command (each is a shell start under
 * TCG): a table the kernel accepts anyway is removed at once, so the mirror's own table is never touched.
 */
export async function loadInvalidTables(node: Node, dm: string, tables: readonly InvalidTable[], timeoutMs: number): Promise<InvalidTableLoad[]> {
  const err = '/run/clogtest/invalid-table.err';
  const script = [
    'mkdir -p /run/clogtest',
    ...tables.map(
      (t) =>
        `${DMSETUP} create ${dm} --table ${shellQuote(t.table)} >/dev/null 2>${err}; rc=$?; left=0; ${DMSETUP} info ${dm} >/dev/null 2>&1 && left=1; ` +
        `echo "@@ ${t.variant} $rc $left $(head -c 400 ${err} | tr '\n' ' ')"; [ $left = 0 ] || ${DMSETUP} remove ${dm} >/dev/null 2>&1; true`,
    ),
  ].join('\n');
  const out = await node.execOrThrow(script, { timeoutMs });
  const loads = new Map<string, InvalidTableLoad>();
  for (const line of out.stdout.split('\n')) {
    const m = /^@@ (\S+) (\d+) ([01]) ?(.*)$/.exec(line);
    if (m) loads.set(m[1]!, { variant: m[1]!, refused: m[2] !== '0', leftDevice: m[3] === '1', error: m[4]!.trim() });
  }
  const missing = tables.filter((t) => !loads.has(t.variant)).map((t) => t.variant);
  if (missing.length) throw new Error(`${node.name}: no outcome for the malformed table(s) ${missing.join(', ')} in: ${out.stdout.slice(-400)}`);
  return tables.map((t) => loads.get(t.variant)!);
}

export async function suspendMirror(node: Node, m: MirrorLayout, timeoutMs: number): Promise<void> {
  await dmsetup(node, `suspend ${m.name}`, timeoutMs);
}

export async function resumeMirror(node: Node, m: MirrorLayout, timeoutMs: number): Promise<void> {
  await dmsetup(node, `resume ${m.name}`, timeoutMs);
}

/**
 * Swaps dm's table for `table` with a suspend --noflush, a load and a resume, in one guest command (each
 * guest command is a shell start, about half a second under TCG). A layer (leg or log) is swapped so to fail
 * or slow a device, as lvm2's tests fail a PV. A mirror is reloaded so (the same table again: the log's
 * destructor and constructor run through cmirrord) with --noflush as lvm2 does (lib/activate/activate.c:
 * "Mirror repair requires noflush for proper repair!"): with handle_errors, dm-raid1 holds the writes that
 * met a failed leg or log until userspace reconfigures the mirror, and only a noflush suspend requeues them
 * into the new table (dm-raid1.c hold_bio); a plain suspend fails them with EIO.
 */
export async function swapTable(node: Node, dm: string, table: string, timeoutMs: number): Promise<void> {
  await node.execOrThrow([`suspend --noflush ${dm}`, tableArgs('load', dm, table), `resume ${dm}`].map((a) => `${DMSETUP} ${a}`).join(' && '), { timeoutMs });
}

export async function reloadMirror(node: Node, m: MirrorLayout, uuid: string, timeoutMs: number): Promise<void> {
  await swapTable(node, m.name, mirrorTable(m, uuid, false, await logDevnum(node, m)), timeoutMs);
}

export async function mirrorStatus(node: Node, m: MirrorLayout, timeoutMs = DMSETUP_TIMEOUT_MS): Promise<MirrorStatus> {
  return parseMirrorStatus(await dmsetup(node, `status ${m.name}`, timeoutMs));
}

/**
 * Polls `dmsetup status` on every node until pred holds everywhere. The deadline message names
 * each node that was not there yet and its last status line (or the error reading it).
 */
export async function waitMirrors(
  nodes: readonly Node[],
  mirrors: readonly MirrorLayout[],
  what: string,
  pred: (s: MirrorStatus) => boolean,
  deadlineMs: number,
  abortIf: () => string | undefined = () => undefined,
): Promise<Map<string, MirrorStatus>> {
  const deadline = Date.now() + deadlineMs;
  return poll(what, deadlineMs, 1000, async () => {
    const ok = new Map<string, MirrorStatus>();
    const notYet: string[] = [];
    await Promise.all(
      nodes.flatMap((n) =>
        mirrors.map(async (m) => {
          const key = `${n.name} ${m.name}`;
          const left = Math.max(1000, Math.min(DMSETUP_TIMEOUT_MS, deadline - Date.now()));
          try {
            const s = await mirrorStatus(n, m, left);
            if (pred(s)) ok.set(key, s);
            else notYet.push(`${key}: ${s.line}`);
          } catch (err) {
            notYet.push(`${key}: ${errorMessage(err).split('\n')[0]!}`);
          }
        }),
      ),
    );
    return notYet.length === 0 ? { done: true, value: ok } : { done: false, seen: notYet.sort().join('; ') };
  }, abortIf);
}

/**
 * A guest command that exits 0 as soon as one of the dm-delay layers `dms` holds a data write, polling
 * `dmsetup status` every 20 ms inside the guest (one round trip instead of one per poll), and exits 1
 * with the last counts seen when `seconds` pass first. A dm-delay status line is "START LEN delay READS
 * WRITES FLUSHES" (Linux 6.1 dm-delay.c delay_status: each class's count goes up when a bio is queued and
 * down when it is sent on): the fifth field. Held flushes do not count: the writers' O_DSYNC flush follows
 * a write whose data has already reached every leg, so a crash while a flush is held leaves the legs alike.
 */
export function heldWriteWaiter(dms: readonly string[], seconds: number, opts: { stopFile?: string; newWrite?: boolean } = {}): string {
  // Each look forks dmsetup, which costs about half a second in a loaded TCG guest: the rest is builtins.
  const count = dms.map((dm) => `s=$(${DMSETUP} status ${dm}) || exit 2; set -- $s; n=$((n + $5))`).join('; ');
  // With newWrite, a write already held when the waiter starts does not count: its hold may be nearly over.
  const ready = opts.newWrite ? '[ "$n" -gt 0 ] && [ "$prev" -eq 0 ] && exit 0; prev=$n' : '[ "$n" -gt 0 ] && exit 0';
  const stop = opts.stopFile ? `[ -e ${opts.stopFile} ] && exit 5; ` : '';
  return `prev=-1; end=$((SECONDS + ${Math.max(1, Math.ceil(seconds))})); while :; do ${stop}n=0; ${count}; ${ready}; [ $SECONDS -ge $end ] && { echo "$s"; exit 1; }; sleep 0.02; done`;
}

/**
 * Mirror operations on guests through dmsetup. The guests run no udev, so every call says
 * --noudevsync and `dmsetup mknodes` makes the /dev/mapper nodes the tables refer to.
 */
import type { Topology } from '../case/schema.ts';
import type { Node } from '../cluster/node.ts';
import { errorMessage } from '../errors.ts';
import { poll } from '../poll.ts';
import { parseMirrorStatus, type MirrorStatus } from '../oracle/dm-status.ts';
import { shellQuote } from '../proc.ts';
import { layerTable, mirrorTable, type MirrorLayout } from './table.ts';

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

async function loadTable(node: Node, dm: string, table: string): Promise<void> {
  await dmsetup(node, tableArgs('load', dm, table));
}

/**
 * The layers under the legs and the log, then the mirror on top; the layers stay when the mirror fails to load,
 * for remove(). A layer named in `tables` is created with that table instead of its healthy dm-linear one.
 * The layers are made in one guest command and the mirror with its node in another: each command is a guest
 * shell start, about half a second in a loaded TCG guest, and only the mirror's load waits on cmirrord.
 */
export async function createMirror(node: Node, t: Topology, m: MirrorLayout, uuid: string, timeoutMs: number, tables: ReadonlyMap<string, string> = new Map(), inSync = false): Promise<void> {
  const layers = [
    ...m.legs.map((l) => tableArgs('create', l.dm, tables.get(l.dm) ?? layerTable(t, 'leg', l.serial))),
    ...(m.log ? [tableArgs('create', m.log.dm, tables.get(m.log.dm) ?? layerTable(t, 'log', m.log.serial))] : []),
    'mknodes',
  ];
  await node.execOrThrow(layers.map((a) => `${DMSETUP} ${a}`).join(' && '), { timeoutMs: DMSETUP_TIMEOUT_MS });
  await node.execOrThrow(`${DMSETUP} ${tableArgs('create', m.name, mirrorTable(m, uuid, inSync))} && ${DMSETUP} mknodes ${m.name}`, { timeoutMs });
}

/** Removes the mirror and its layers, whichever of them exist. */
export async function removeMirror(node: Node, m: MirrorLayout, timeoutMs: number): Promise<void> {
  const names = [m.name, ...m.legs.map((l) => l.dm), ...(m.log ? [m.log.dm] : [])];
  for (const dm of names) {
    const r = await node.exec(`${DMSETUP} info ${dm} >/dev/null 2>&1`, { timeoutMs: DMSETUP_TIMEOUT_MS });
    if (r.code === 0) await dmsetup(node, `remove ${dm}`, timeoutMs);
  }
}

export async function suspendMirror(node: Node, m: MirrorLayout, timeoutMs: number): Promise<void> {
  await dmsetup(node, `suspend ${m.name}`, timeoutMs);
}

export async function resumeMirror(node: Node, m: MirrorLayout, timeoutMs: number): Promise<void> {
  await dmsetup(node, `resume ${m.name}`, timeoutMs);
}

/**
 * Loads the same table again and swaps it in: the log's destructor and constructor run through cmirrord.
 * The suspend is --noflush, as lvm2 does for a mirror (lib/activate/activate.c: "Mirror repair requires
 * noflush for proper repair!"): with handle_errors, dm-raid1 holds the writes that met
 * a failed leg or log until userspace reconfigures the mirror, and only a noflush suspend requeues them
 * into the new table (dm-raid1.c hold_bio); a plain suspend fails them with EIO.
 */
export async function reloadMirror(node: Node, m: MirrorLayout, uuid: string, timeoutMs: number): Promise<void> {
  await dmsetup(node, `suspend --noflush ${m.name}`, timeoutMs);
  await loadTable(node, m.name, mirrorTable(m, uuid));
  await dmsetup(node, `resume ${m.name}`, timeoutMs);
}

/** Swaps the table of a layer (leg or log) with a suspend/load/resume, as lvm2's tests fail a device. */
export async function swapLayer(node: Node, dm: string, table: string, timeoutMs: number): Promise<void> {
  await dmsetup(node, `suspend --noflush ${dm}`, timeoutMs);
  await loadTable(node, dm, table);
  await dmsetup(node, `resume ${dm}`, timeoutMs);
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
export function heldWriteWaiter(dms: readonly string[], seconds: number, stopFile?: string): string {
  // Each look forks dmsetup, which costs about half a second in a loaded TCG guest: the rest is builtins.
  const look = dms.map((dm) => `s=$(${DMSETUP} status ${dm}) || exit 2; set -- $s; [ "$5" -gt 0 ] && exit 0`).join('; ');
  const stop = stopFile ? `[ -e ${stopFile} ] && exit 5; ` : '';
  return `end=$((SECONDS + ${Math.max(1, Math.ceil(seconds))})); while :; do ${stop}${look}; [ $SECONDS -ge $end ] && { echo "$s"; exit 1; }; sleep 0.02; done`;
}

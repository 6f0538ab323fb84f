/**
 * Device-mapper tables for the mirrors of a topology (pure). Every leg and the log sit on a
 * dm-linear layer over their shared disk, so a fault can swap that layer to dm-error or
 * dm-delay on chosen nodes only, as lvm2's own tests do, without touching the mirror table.
 */
import { sharedDiskPath } from '../../base/guest-contract.ts';
import { LIMITS, regionCount, type Topology } from '../../case/schema.ts';

const SECTOR = LIMITS.sector;

export interface SharedDiskSpec {
  serial: string;
  sizeMb: number;
}

/** What one mirror is made of, by dm name and by shared disk serial. */
export interface MirrorLayout {
  index: number;
  /** dm name of the mirror; the device is /dev/mapper/<name>. */
  name: string;
  legs: Array<{ dm: string; serial: string }>;
  /** Absent for clustered-core. */
  log?: { dm: string; serial: string };
  sectors: number;
  regionSectors: number;
  regions: number;
  logType: Topology['logType'];
  integratedFlush: boolean;
  logDevice: Topology['logDevice'];
  blockOnError: boolean;
}

/** Mirror 0 keeps the plain serials (leg0, leg1, log) the rest of the harness and its docs use. */
function serialPrefix(mirror: number): string {
  return mirror === 0 ? '' : `m${mirror}`;
}

export function mirrorLayout(t: Topology, index: number): MirrorLayout {
  const name = `clog${index}`;
  const p = serialPrefix(index);
  return {
    index,
    name,
    legs: Array.from({ length: t.legs }, (_, i) => ({ dm: `${name}-leg${i}`, serial: `${p}leg${i}` })),
    ...(t.logType === 'clustered-disk' ? { log: { dm: `${name}-log`, serial: `${p}log` } } : {}),
    sectors: Math.floor(t.legSize / SECTOR),
    regionSectors: t.regionSize / SECTOR,
    regions: regionCount(t),
    logType: t.logType,
    integratedFlush: t.integratedFlush,
    logDevice: t.logDevice,
    blockOnError: t.blockOnError,
  };
}

export function mirrorLayouts(t: Topology): MirrorLayout[] {
  return Array.from({ length: t.mirrors }, (_, i) => mirrorLayout(t, i));
}

const mb = (bytes: number) => Math.ceil(bytes / (1024 * 1024));

/** The shared disks the cluster needs: one per leg of every mirror, plus a log disk per clustered-disk mirror. */
export function sharedDisks(t: Topology): SharedDiskSpec[] {
  return mirrorLayouts(t).flatMap((m) => [
    ...m.legs.map((l) => ({ serial: l.serial, sizeMb: mb(t.legSize) })),
    ...(m.log ? [{ serial: m.log.serial, sizeMb: mb(t.logSize) }] : []),
  ]);
}

export function mapperPath(dm: string): string {
  return `/dev/mapper/${dm}`;
}

export function linearTable(sectors: number, device: string): string {
  return `0 ${sectors} linear ${device} 0`;
}

export function errorTable(sectors: number): string {
  return `0 ${sectors} error`;
}

/** dm-delay: every read and write to the device waits delayMs. */
export function delayTable(sectors: number, device: string, delayMs: number): string {
  return `0 ${sectors} delay ${device} 0 ${delayMs}`;
}

/** Sectors of the layer under a leg or a log: the whole shared disk. */
export function layerSectors(t: Topology, what: 'leg' | 'log'): number {
  return (mb(what === 'leg' ? t.legSize : t.logSize) * 1024 * 1024) / SECTOR;
}

/** The healthy table of the layer `dm` over shared disk `serial`. */
export function layerTable(t: Topology, what: 'leg' | 'log', serial: string): string {
  return linearTable(layerSectors(t, what), sharedDiskPath(serial));
}

/**
 * `0 LEN mirror userspace 4 UUID clustered-disk LOGDEV REGION 2 LEG0 0 LEG1 0 1 handle_errors`, or
 * `userspace 3 UUID clustered-core REGION` for the core log. The UUID names cmirrord's CPG group,
 * so it must be the same on every node. `inSync` adds the log's `nosync` argument (cmirrord's
 * clog_ctr): a log with no valid bitmap on disk starts with every region clean and in sync.
 * `integrated_flush` comes right after the UUID, where dm-log-userspace looks for it. LOGDEV is the
 * log layer's /dev/mapper path, or `logDevnum` (its major:minor on the node that loads the table, which
 * only that node knows) when the topology names the log device by number.
 */
export function mirrorTable(m: MirrorLayout, uuid: string, inSync = false, logDevnum?: string): string {
  const args = [
    uuid,
    ...(m.integratedFlush ? ['integrated_flush'] : []),
    ...(m.log ? ['clustered-disk', logDeviceArg(m.log.dm, m.logDevice, logDevnum)] : ['clustered-core']),
    String(m.regionSectors),
    ...(inSync ? ['nosync'] : []),
    ...(m.blockOnError ? ['block_on_error'] : []),
  ];
  const log = `userspace ${args.length} ${args.join(' ')}`;
  const legs = m.legs.map((l) => `${mapperPath(l.dm)} 0`).join(' ');
  return `0 ${m.sectors} mirror ${log} ${m.legs.length} ${legs} 1 handle_errors`;
}

function logDeviceArg(dm: string, form: MirrorLayout['logDevice'], devnum: string | undefined): string {
  if (form === 'path') return mapperPath(dm);
  if (!devnum || !/^\d+:\d+$/.test(devnum)) throw new Error(`the table names log device ${dm} by number, but its major:minor is "${devnum ?? ''}"`);
  return devnum;
}

/** A per-run, per-mirror UUID: the run id makes a kept disk from an earlier run a different log. */
export function mirrorUuid(runId: number, mirror: number): string {
  return `clogtest-${runId.toString(16).padStart(8, '0')}-m${mirror}`;
}

/** A mirror table the kernel or cmirrord must refuse, with what makes it wrong. */
export interface InvalidTable {
  /** Names the malformation in history and findings. */
  variant: string;
  /** The log UUID it asks for: its own, so a log it leaves behind in cmirrord is told apart. */
  uuid: string;
  table: string;
  /** Who refuses it, and where. */
  refusedBy: string;
}

/**
 * Malformed tables for mirror m, each with a UUID of its own derived from `uuid`: the constructor's
 * argument checks in dm-log-userspace (userspace_ctr) and cmirrord (clog_ctr, _clog_ctr, find_disk_path),
 * and a log that constructs but whose mirror then fails (dm-raid1 mirror_ctr destroys it again).
 */
export function invalidMirrorTables(m: MirrorLayout, uuid: string): InvalidTable[] {
  const legs = (first = mapperPath(m.legs[0]!.dm)) =>
    `${m.legs.length} ${[first, ...m.legs.slice(1).map((l) => mapperPath(l.dm))].map((d) => `${d} 0`).join(' ')} 1 handle_errors`;
  const mirror = (log: string[], legList = legs()) => `0 ${m.sectors} mirror userspace ${log.length} ${log.join(' ')} ${legList}`;
  const region = String(m.regionSectors);
  /** One malformed table: its log arguments follow a UUID of its own, `uuid-variant` unless `logUuid` is given. */
  const table = (variant: string, refusedBy: string, logArgs: string[], o: { logUuid?: string; legList?: string } = {}): InvalidTable => {
    const own = o.logUuid ?? `${uuid}-${variant}`;
    return { variant, uuid: own, table: mirror([own, ...logArgs], o.legList), refusedBy };
  };
  const tables = [
    table('unknown-log-type', 'cmirrord clog_ctr', ['clustered-bogus', region]),
    table('too-few-log-args', 'dm-log-userspace userspace_ctr', []),
    table('uuid-too-long', 'dm-log-userspace userspace_ctr', ['clustered-core', region], { logUuid: `${uuid}-${'x'.repeat(128)}` }),
    table('missing-leg', 'dm-raid1 mirror_ctr, after cmirrord constructed the log', ['clustered-core', region], { legList: legs('/dev/mapper/clogtest-no-such-leg') }),
  ];
  if (m.log) {
    const log = mapperPath(m.log.dm);
    tables.push(
      table('missing-log-device', 'cmirrord find_disk_path', ['clustered-disk', '/dev/mapper/clogtest-no-such-log', region]),
      table('unknown-log-devnum', 'cmirrord find_disk_path', ['clustered-disk', '250:250', region]),
      table('bad-region-size', 'cmirrord _clog_ctr', ['clustered-disk', log, `${region}x`]),
      table('too-many-log-args', 'cmirrord _clog_ctr', ['clustered-disk', log, region, 'nosync', 'block_on_error', 'extra']),
    );
  }
  return tables;
}

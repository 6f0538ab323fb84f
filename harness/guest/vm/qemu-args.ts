/**
 * The QEMU command line of one cluster node, as a pure function of its spec so it
 * can be tested with exact argument vectors.
 */
import { openSync, closeSync } from 'node:fs';
import { InputError } from '../../base/errors.ts';
import { clusterMac, kernelCommandLine, mgmtMac } from '../../base/guest-contract.ts';
import { shellQuote } from '../../base/proc.ts';

export type Accel = 'kvm' | 'tcg';

export interface SharedDisk {
  /** Shows up in the guest as /dev/disk/by-id/virtio-<serial>; virtio-blk keeps 20 bytes of it. */
  serial: string;
  file: string;
}

export interface QemuSpec {
  node: number;
  accel: Accel;
  cpus?: number;
  memoryMb?: number;
  kernel: string;
  /** Appended to kernelCommandLine(node). */
  kernelArgs?: readonly string[];
  /** qcow2 overlay over the shared read-only root image; attached first so the guest sees it as vda. */
  rootOverlay: string;
  sharedDisks: readonly SharedDisk[];
  /** Host TCP port on 127.0.0.1 forwarded to the guest's sshd. */
  sshPort: number;
  /** UDP port of the harness hub on 127.0.0.1. */
  hubPort: number;
  /** This node's own UDP port on 127.0.0.1: the hub tells nodes apart by it. */
  clusterPort: number;
  qmpSocket: string;
  /** Appended to, never truncated: a restored node's console goes on from its saved boot's. */
  serialLog: string;
  /** A saved machine state to load (paused, for the caller to `cont`) instead of booting. */
  incomingState?: string;
}

export const DEFAULT_CPUS = 1;
export const DEFAULT_MEMORY_MB = 768;

const SERIAL_RE = /^[A-Za-z0-9_-]{1,20}$/;

/** KVM only helps when we can actually open it; otherwise TCG. The caller says which it got. */
export function accel(device = '/dev/kvm'): Accel {
  try {
    closeSync(openSync(device, 'r+'));
    return 'kvm';
  } catch {
    return 'tcg';
  }
}

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InputError(`${name} must be a port number, got ${port}`);
}

/** QEMU's -blockdev/-device values are comma-separated; a comma in a path must be doubled. */
function esc(value: string): string {
  return value.replace(/,/g, ',,');
}

export function sharedNodeName(serial: string): string {
  return `shared-${serial}`;
}

export function qemuArgs(spec: QemuSpec): string[] {
  const { node } = spec;
  if (!Number.isInteger(node) || node < 1 || node > 254) throw new InputError(`node id must be 1..254, got ${node}`);
  const cpus = spec.cpus ?? DEFAULT_CPUS;
  const memoryMb = spec.memoryMb ?? DEFAULT_MEMORY_MB;
  checkPort('ssh port', spec.sshPort);
  checkPort('hub port', spec.hubPort);
  checkPort('cluster port', spec.clusterPort);
  const serials = new Set<string>();
  for (const d of spec.sharedDisks) {
    if (!SERIAL_RE.test(d.serial)) {
      throw new InputError(`shared disk serial "${d.serial}" must be 1-20 characters of letters, digits, - and _`);
    }
    if (serials.has(d.serial)) throw new InputError(`shared disk serial "${d.serial}" is used twice`);
    serials.add(d.serial);
  }

  const args = [
    '-name', `node${node}`,
    '-nodefaults',
    '-no-user-config',
    '-display', 'none',
    '-no-reboot',
    '-machine', 'pc',
    '-accel', spec.accel,
    '-cpu', spec.accel === 'kvm' ? 'host' : 'max',
    '-smp', String(cpus),
    '-m', String(memoryMb),
    '-kernel', spec.kernel,
    // Without it sshd blocks on getrandom() for seconds until the entropy pool fills;
    // RDRAND is there under both -cpu max (TCG) and -cpu host.
    '-append', kernelCommandLine(node, ['random.trust_cpu=on', ...(spec.kernelArgs ?? [])]),
    '-chardev', `file,id=console,path=${esc(spec.serialLog)},append=on`,
    '-serial', 'chardev:console',
    '-qmp', `unix:${esc(spec.qmpSocket)},server=on,wait=off`,
    '-blockdev', `driver=qcow2,node-name=root,file.driver=file,file.filename=${esc(spec.rootOverlay)}`,
    '-device', 'virtio-blk-pci,drive=root',
  ];
  for (const d of spec.sharedDisks) {
    const name = sharedNodeName(d.serial);
    // cache.direct: every guest must see the others' writes on the same file, not a host page cache
    // copy; locking=off + share-rw: several QEMU processes open it read-write on purpose.
    args.push(
      '-blockdev', `driver=file,filename=${esc(d.file)},node-name=${name},cache.direct=on,locking=off`,
      '-device', `virtio-blk-pci,drive=${name},share-rw=on,serial=${d.serial}`,
    );
  }
  args.push(
    // restrict=on: the guest cannot reach the host or beyond; the forwarded SSH port still works.
    '-netdev', `user,id=mgmt,hostfwd=tcp:127.0.0.1:${spec.sshPort}-:22,restrict=on`,
    // romfile=: no iPXE option ROM, nothing here boots from the network.
    '-device', `virtio-net-pci,netdev=mgmt,mac=${mgmtMac(node)},romfile=`,
    '-netdev',
    `dgram,id=clu,local.type=inet,local.host=127.0.0.1,local.port=${spec.clusterPort},` +
      `remote.type=inet,remote.host=127.0.0.1,remote.port=${spec.hubPort}`,
    '-device', `virtio-net-pci,netdev=clu,mac=${clusterMac(node)},romfile=`,
  );
  // -S: a loaded state stays paused, so that every node of a cluster can be let go at the same moment.
  if (spec.incomingState !== undefined) args.push('-S', '-incoming', `exec:cat ${shellQuote(spec.incomingState)}`);
  return args;
}

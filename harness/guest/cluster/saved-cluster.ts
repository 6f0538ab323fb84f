/**
 * A ready cluster (quorate everywhere, cmirrord running) kept in the cache and restored in a second or two
 * instead of booted: every node's memory and device state (QEMU migration to a file) and its root overlay,
 * taken while the whole cluster was paused. The key is all that makes one bring-up differ from another: each
 * node's QEMU command line without its per-run paths and ports, the kernel's and root image's identity, the
 * QEMU build, the host CPU (KVM's -cpu host), the shared disks' names and sizes, corosync.conf and the
 * bring-up recipe. What is per run (shared disk files, hub and ssh ports, the run directory) is the new run's:
 * a saved state holds none of it.
 */
import { readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { CacheEntry, cacheKey, type KeyPart } from '../../stack/cache.ts';
import { cacheRoot } from '../../base/paths.ts';
import { run } from '../../base/proc.ts';
import type { SavedMachine } from '../vm/machine.ts';
import { qemuArgs, type QemuSpec } from '../vm/qemu-args.ts';

/** Bump when the bring-up changes what a ready cluster is (a daemon started differently, say). */
const SAVED_CLUSTER_RECIPE = '1';
const KIND = 'clusters';
/** Entries kept, the least recently used go first: a 3-node entry is about 300 MB. */
export const SAVED_CLUSTERS_KEPT = 12;

export interface SavedClusterInputs {
  /** Each node's machine spec, in node order; its per-run parts are left out of the key. */
  machines: ReadonlyArray<Omit<QemuSpec, 'rootOverlay' | 'qmpSocket' | 'serialLog' | 'incomingState'>>;
  rootImage: string;
  disks: ReadonlyArray<{ serial: string; sizeMb: number }>;
  corosyncConf: string;
  daemon: boolean;
}

/** A file's identity without reading it: the kernel and image under the cache are never rewritten in place. */
function fileIdentity(path: string): string {
  const s = statSync(path);
  return `${path}:${s.size}:${s.mtimeMs}`;
}

let host: Promise<string> | undefined;

/** The QEMU build and the host CPU model and flags: a state saved under one may not load under another. */
function hostIdentity(): Promise<string> {
  host ??= (async () => {
    const qemu = (await run('qemu-system-x86_64', ['--version'], { timeoutMs: 10_000 })).stdout.trim();
    const cpu = readFileSync('/proc/cpuinfo', 'utf8').split('\n\n')[0]!.split('\n').filter((l) => /^(model name|flags)\s*:/.test(l));
    return [qemu, ...cpu].join('\n');
  })();
  return host;
}

export async function savedClusterKey(inputs: SavedClusterInputs): Promise<string> {
  const parts: KeyPart[] = [
    ['recipe', SAVED_CLUSTER_RECIPE],
    ['host', await hostIdentity()],
    ['root image', fileIdentity(inputs.rootImage)],
    ['disks', inputs.disks.map((d) => `${d.serial}=${d.sizeMb}`).join(',')],
    ['corosync.conf', inputs.corosyncConf],
    ['daemon', String(inputs.daemon)],
  ];
  for (const m of inputs.machines) {
    parts.push(['kernel', fileIdentity(m.kernel)]);
    const perRun = { kernel: 'KERNEL', rootOverlay: 'ROOT', qmpSocket: 'QMP', serialLog: 'CONSOLE', sshPort: 1, hubPort: 1, clusterPort: 1 };
    parts.push(['qemu', qemuArgs({ ...m, ...perRun, sharedDisks: m.sharedDisks.map((d) => ({ serial: d.serial, file: 'DISK' })) }).join('\0')]);
  }
  return cacheKey(parts);
}

const saving = new Set<string>();

/**
 * Runs save unless this process is saving key already (`run --jobs` can bring up two clusters of one key at
 * once, and a cache entry's staging directory is named by process); returns undefined when it did not.
 */
export async function saveOnce<T>(key: string, save: () => Promise<T>): Promise<T | undefined> {
  if (saving.has(key)) return undefined;
  saving.add(key);
  try {
    return await save();
  } finally {
    saving.delete(key);
  }
}

/** Where each node's parts live in an entry (or in its staging directory). */
export function savedMachine(dir: string, node: number): SavedMachine {
  return { state: join(dir, `node${node}.state`), overlay: join(dir, `node${node}.qcow2`) };
}

export function savedConsole(dir: string, node: number): string {
  return join(dir, `node${node}.serial.log`);
}

export function savedClusterEntry(key: string): CacheEntry {
  return new CacheEntry(KIND, key);
}

/** The entry when it is complete, marked as just used. */
export function findSavedCluster(key: string): CacheEntry | undefined {
  const entry = savedClusterEntry(key);
  if (!entry.isComplete()) return undefined;
  const now = new Date();
  utimesSync(entry.path('metadata.json'), now, now);
  return entry;
}

/** Removes the least recently used entries beyond SAVED_CLUSTERS_KEPT. */
export function evictSavedClusters(): void {
  const dir = join(cacheRoot(), KIND);
  const used = readdirSync(dir)
    .filter((k) => /^[0-9a-f]{24}$/.test(k))
    .flatMap((k) => {
      try {
        return [{ k, at: statSync(join(dir, k, 'metadata.json')).mtimeMs }];
      } catch {
        return [];
      }
    })
    .sort((a, b) => b.at - a.at);
  for (const { k } of used.slice(SAVED_CLUSTERS_KEPT)) rmSync(join(dir, k), { recursive: true, force: true });
}

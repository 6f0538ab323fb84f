/**
 * The options every command that boots a cluster takes (up, run, bench, bisect-run, mutate), and the
 * Cluster options they come to: the kernel and image built or found, the accelerator, sizes and timeouts.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { parseArgs } from 'node:util';
import { MAX_NODES, MIN_NODES, type ClusterOptions } from '../guest/cluster/cluster.ts';
import { DEFAULT_TOKEN_MS } from '../guest/cluster/corosync-conf.ts';
import { InfraError, InputError } from '../base/errors.ts';
import type { BuildCoverage } from '../stack/coverage.ts';
import { withFixes } from '../stack/fixes.ts';
import { ensureImage } from '../stack/image/index.ts';
import { ensureKernel } from '../stack/kernel/index.ts';
import { intOption } from './command.ts';
import { imageOptions, imageOptionsHelp } from './image.ts';
import { kernelOptions, kernelOptionsFrom, kernelOptionsHelp } from './kernel.ts';

export const clusterOptions = {
  ...kernelOptions,
  ...imageOptions,
  nodes: { type: 'string', short: 'n' },
  'image-dir': { type: 'string' },
  accel: { type: 'string' },
  memory: { type: 'string' },
  'token-ms': { type: 'string' },
  'cold-boot': { type: 'boolean' },
} as const;

export const clusterOptionsHelp = `  -n, --nodes N            cluster size, ${MIN_NODES}..${MAX_NODES} (default 3)
  --accel kvm|tcg          default: KVM when it works here, else TCG (CLOGTEST_ACCEL also decides)
  --memory MB              guest memory (default 768)
  --token-ms MS            corosync totem token timeout (default 3000)
  --cold-boot              boot every node, even where a saved cluster of the same kernel,
                           image, size and corosync.conf could be restored (and save none)
  --image-dir DIR          use DIR/root.img and DIR/id_ed25519 as they are: no image build
${kernelOptionsHelp}
${imageOptionsHelp}`;

/**
 * Only for the commands that boot a cluster of their own (up, bench). A case's cluster always leaves its
 * disks in the case directory, where the end checks read them; --keep decides whether that directory stays.
 */
export const keepDisksOption = { 'keep-disks': { type: 'boolean' } } as const;

export const keepDisksHelp = `  --keep-disks             keep the shared disk files in the run directory`;

/** For the commands that run cases (run, mutate, bisect-run): the counters are collected at each case's checks. */
export const coverageOption = { coverage: { type: 'boolean' } } as const;

export const coverageHelp = `  --coverage               build the kernel's mirror log files and cmirrord with gcov (cached
                           apart), collect every node's counters at each check point and at
                           the end, and write line, branch and function coverage per file to
                           runs/<id>/coverage/ and the report; a node that crashes loses what it
                           ran since its last collection`;

/** The output options of the commands that run cases and judge them (run, mutate). */
export const caseOutputOptions = {
  list: { type: 'boolean' },
  json: { type: 'string' },
  keep: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof clusterOptions; allowPositionals: true; strict: true }>>['values'];

/** The Cluster options the command line decides for a case's cluster (the case's topology sizes it), and the coverage builds' notes. */
export type CaseClusterOptions = Omit<ClusterOptions, 'name' | 'nodes' | 'keepDisks'> & { coverage?: BuildCoverage[] };

/** Builds or finds the kernel and image the options ask for, and the Cluster options around them. */
export async function caseClusterOptions(values: Values & { coverage?: boolean }): Promise<CaseClusterOptions> {
  const accel = values.accel;
  if (accel !== undefined && accel !== 'kvm' && accel !== 'tcg') throw new InputError(`--accel must be kvm or tcg, got "${accel}"`);
  const coverage = values.coverage ?? false;
  if (coverage && (values['kernel-image'] || values['image-dir'])) throw new InputError('--coverage builds the kernel and image itself: it cannot be used with --kernel-image or --image-dir');
  const kernel = await ensureKernel({ ...kernelOptionsFrom(values), coverage });
  let rootImage: string;
  let sshKey: string;
  let daemonNotes: BuildCoverage | undefined;
  if (values['image-dir']) {
    const dir = resolve(values['image-dir']);
    [rootImage, sshKey] = [join(dir, 'root.img'), join(dir, 'id_ed25519')];
    for (const f of [rootImage, sshKey]) if (!existsSync(f)) throw new InputError(`--image-dir ${values['image-dir']}: no ${f}`);
  } else {
    const image = await ensureImage({ stack: values.stack, daemonPatches: withFixes(values['daemon-patch'], values.fixes, 'daemon'), daemonTree: values['daemon-tree'], coverage });
    [rootImage, sshKey] = [image.rootImage, image.sshKey];
    daemonNotes = image.coverage;
    // An image found in the cache whose cmirrord build was since removed has no notes to read counters against.
    if (coverage && !daemonNotes) throw new InfraError(`--coverage: the notes of the cmirrord coverage build are gone from the cache; remove ${image.dir} to have it built again`);
  }
  if (coverage && !kernel.coverage) throw new InfraError(`--coverage: the notes of the kernel coverage build are gone from the cache; remove ${kernel.dir} to have it built again`);
  return {
    bzImage: kernel.bzImage,
    rootImage,
    sshKey,
    accel,
    memoryMb: intOption('memory', values.memory, 768, 256, 16384),
    tokenMs: intOption('token-ms', values['token-ms'], DEFAULT_TOKEN_MS, 100, 600_000),
    coldBoot: values['cold-boot'],
    ...(coverage ? { coverage: [daemonNotes!, kernel.coverage!] } : {}),
  };
}

/** --nodes for the commands that run cases: every case is loaded (and validated) at this size. */
export function nodesOverride(value: string | undefined): number | undefined {
  return value === undefined ? undefined : intOption('nodes', value, 3, MIN_NODES, MAX_NODES);
}

/** The options of a command that boots one cluster itself (up, bench), --nodes and --keep-disks included. */
export async function clusterStartOptions(values: Values & { 'keep-disks'?: boolean }, name: string): Promise<ClusterOptions> {
  const cluster = await caseClusterOptions(values);
  return { ...cluster, name, nodes: intOption('nodes', values.nodes, 3, MIN_NODES, MAX_NODES), keepDisks: values['keep-disks'] };
}

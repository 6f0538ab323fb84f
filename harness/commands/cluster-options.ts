/**
 * The options every command that boots a cluster takes (up, run, bench, bisect-run, mutate), and the
 * Cluster options they come to: the kernel and image built or found, the accelerator, sizes and timeouts.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { parseArgs } from 'node:util';
import { MAX_NODES, MIN_NODES, type ClusterOptions } from '../cluster/cluster.ts';
import { InputError } from '../errors.ts';
import { withFixes } from '../fixes.ts';
import { ensureImage } from '../image/index.ts';
import { ensureKernel } from '../kernel/index.ts';
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
  'keep-disks': { type: 'boolean' },
  'cold-boot': { type: 'boolean' },
} as const;

export const clusterOptionsHelp = `  -n, --nodes N            cluster size, ${MIN_NODES}..${MAX_NODES} (default 3)
  --accel kvm|tcg          default: KVM when it works here, else TCG (CLOGTEST_ACCEL also decides)
  --memory MB              guest memory (default 768)
  --token-ms MS            corosync totem token timeout (default 3000)
  --keep-disks             keep the shared disk files in the run directory
  --cold-boot              boot every node, even where a saved cluster of the same kernel,
                           image, size and corosync.conf could be restored (and save none)
  --image-dir DIR          use DIR/root.img and DIR/id_ed25519 as they are: no image build
${kernelOptionsHelp}
${imageOptionsHelp}`;

/** The output options of the commands that run cases and judge them (run, mutate). */
export const caseOutputOptions = {
  list: { type: 'boolean' },
  json: { type: 'string' },
  keep: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof clusterOptions; allowPositionals: true; strict: true }>>['values'];

/** Builds or finds the kernel and image the options ask for, and the Cluster options around them. */
export async function clusterStartOptions(values: Values, name: string): Promise<ClusterOptions> {
  const accel = values.accel;
  if (accel !== undefined && accel !== 'kvm' && accel !== 'tcg') throw new InputError(`--accel must be kvm or tcg, got "${accel}"`);
  const kernel = await ensureKernel(kernelOptionsFrom(values));
  let rootImage: string;
  let sshKey: string;
  if (values['image-dir']) {
    const dir = resolve(values['image-dir']);
    [rootImage, sshKey] = [join(dir, 'root.img'), join(dir, 'id_ed25519')];
    for (const f of [rootImage, sshKey]) if (!existsSync(f)) throw new InputError(`--image-dir ${values['image-dir']}: no ${f}`);
  } else {
    const image = await ensureImage({ stack: values.stack, daemonPatches: withFixes(values['daemon-patch'], values.fixes, 'daemon'), daemonTree: values['daemon-tree'] });
    [rootImage, sshKey] = [image.rootImage, image.sshKey];
  }
  return {
    name,
    nodes: intOption('nodes', values.nodes, 3, MIN_NODES, MAX_NODES),
    bzImage: kernel.bzImage,
    rootImage,
    sshKey,
    accel,
    memoryMb: intOption('memory', values.memory, 768, 256, 16384),
    tokenMs: intOption('token-ms', values['token-ms'], 3000, 100, 600_000),
    keepDisks: values['keep-disks'],
    coldBoot: values['cold-boot'],
  };
}

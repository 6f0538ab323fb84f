import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { parseArgs } from 'node:util';
import { Cluster, MAX_NODES, MIN_NODES, type ClusterOptions } from '../cluster/cluster.ts';
import { UP_PID_FILE } from '../cluster/run-info.ts';
import { InfraError, InputError } from '../errors.ts';
import { ensureImage } from '../image/index.ts';
import { ensureKernel } from '../kernel/index.ts';
import { progress } from '../progress.ts';
import { defineCommand, intOption } from './command.ts';
import { imageOptions, imageOptionsHelp } from './image.ts';
import { kernelOptions, kernelOptionsHelp } from './kernel.ts';

export const clusterOptions = {
  ...kernelOptions,
  ...imageOptions,
  nodes: { type: 'string', short: 'n' },
  'image-dir': { type: 'string' },
  accel: { type: 'string' },
  memory: { type: 'string' },
  'token-ms': { type: 'string' },
  'keep-disks': { type: 'boolean' },
} as const;

export const clusterOptionsHelp = `  -n, --nodes N            cluster size, ${MIN_NODES}..${MAX_NODES} (default 3)
  --accel kvm|tcg          default: KVM when it works here, else TCG (CLOGTEST_ACCEL also decides)
  --memory MB              guest memory (default 768)
  --token-ms MS            corosync totem token timeout (default 3000)
  --keep-disks             keep the shared disk files in the run directory
  --image-dir DIR          use DIR/root.img and DIR/id_ed25519 as they are: no image build
${kernelOptionsHelp}
${imageOptionsHelp}`;

type Values = ReturnType<typeof parseArgs<{ options: typeof clusterOptions; allowPositionals: true; strict: true }>>['values'];

/** Builds or finds the kernel and image the options ask for, and the Cluster options around them. */
export async function clusterStartOptions(values: Values, name: string): Promise<ClusterOptions> {
  const accel = values.accel;
  if (accel !== undefined && accel !== 'kvm' && accel !== 'tcg') throw new InputError(`--accel must be kvm or tcg, got "${accel}"`);
  const kernel = await ensureKernel({
    kernelTree: values['kernel-tree'],
    kernelImage: values['kernel-image'],
    kernelPatches: values['kernel-patch'],
    configFragments: values['config-fragment'],
  });
  let rootImage: string;
  let sshKey: string;
  if (values['image-dir']) {
    const dir = resolve(values['image-dir']);
    [rootImage, sshKey] = [join(dir, 'root.img'), join(dir, 'id_ed25519')];
    for (const f of [rootImage, sshKey]) if (!existsSync(f)) throw new InputError(`--image-dir ${values['image-dir']}: no ${f}`);
  } else {
    const image = await ensureImage({ daemonPatches: values['daemon-patch'], daemonTree: values['daemon-tree'] });
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
  };
}

export default defineCommand({
  name: 'up',
  summary: 'boot a cluster and keep it running until Ctrl-C or `clogtest down`',
  help: `usage: clogtest up [OPTIONS]

Boots N guests on a private hub segment with shared disks (leg0, leg1, log), waits for
a quorate corosync membership of all of them, starts cmirrord on each, and then holds
the cluster (the hub runs in this process) until Ctrl-C, \`clogtest down\`, or a QEMU
exits. Tear-down pulls every guest's logs into runs/<time>-<name>/nodeN/guest/.
Log in with \`clogtest ssh NODE\`.

Options:
  --name NAME              names the run directory and the corosync cluster (default: up)
${clusterOptionsHelp}

Exit 3 when the cluster cannot be brought up or a guest's QEMU exits while it is up.`,
  options: { ...clusterOptions, name: { type: 'string' } },
  async run(values, _positionals, { scope }) {
    const cluster = await Cluster.start(await clusterStartOptions(values, values.name ?? 'up'), scope);
    writeFileSync(join(cluster.runDir, UP_PID_FILE), `${process.pid}\n`);
    progress(`up: \`clogtest ssh 1\` to log in; Ctrl-C or \`clogtest down\` to stop`);
    process.stdout.write(`${cluster.runDir}\n`);
    // Runs first on Ctrl-C or `clogtest down`, so the QEMU exits that tear-down causes are not reported as failures.
    let stopping = false;
    scope.defer('note tear-down', () => void (stopping = true));
    const gone = await Promise.race(cluster.nodes.map((n) => n.machine!.daemon.exited.then(() => n)));
    if (stopping) return 0;
    throw new InfraError(`${gone.name}'s QEMU exited while the cluster was up\n${gone.machine!.describeExit()}`);
  },
});

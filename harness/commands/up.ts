import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from '../guest/cluster/cluster.ts';
import { UP_PID_FILE } from '../guest/cluster/run-info.ts';
import { InfraError } from '../base/errors.ts';
import { progress } from '../base/progress.ts';
import { clusterOptions, clusterOptionsHelp, clusterStartOptions, keepDisksHelp, keepDisksOption } from './cluster-options.ts';
import { defineCommand } from './command.ts';

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
${keepDisksHelp}
${clusterOptionsHelp}

Exit 3 when the cluster cannot be brought up or a guest's QEMU exits while it is up.`,
  options: { ...clusterOptions, ...keepDisksOption, name: { type: 'string' } },
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

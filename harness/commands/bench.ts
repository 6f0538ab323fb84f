import { Cluster, type Timings } from '../cluster/cluster.ts';
import { withScope } from '../scope.ts';
import { defineCommand, intOption } from './command.ts';
import { clusterOptions, clusterOptionsHelp, clusterStartOptions } from './up.ts';

const PHASES = ['qemu', 'ssh', 'quorum', 'daemon', 'total'] as const;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : Math.round((s[mid - 1]! + s[mid]!) / 2);
}

export default defineCommand({
  name: 'bench',
  summary: 'time cluster bring-up: boot, ssh, quorum, cmirrord',
  help: `usage: clogtest bench [OPTIONS]

Brings a cluster up and down --runs times and prints, as one JSON object on stdout,
each run's phase timings in ms (qemu: QEMU answering QMP; ssh: guest boot to sshd;
quorum: corosync quorate on every node; daemon: cmirrord started; total) and their medians.

Options:
  --runs K                 bring-ups to time (default 3)
${clusterOptionsHelp}`,
  options: { ...clusterOptions, runs: { type: 'string' } },
  async run(values) {
    const runs = intOption('runs', values.runs, 3, 1, 100);
    const opts = await clusterStartOptions(values, 'bench');
    const timings: Timings[] = [];
    for (let i = 0; i < runs; i++) {
      await withScope(async (scope) => {
        const cluster = await Cluster.start(opts, scope);
        timings.push(cluster.timings!);
      });
    }
    const medians = Object.fromEntries(PHASES.map((p) => [p, median(timings.map((t) => t[p]))]));
    process.stdout.write(`${JSON.stringify({ nodes: opts.nodes, runs: timings, median: medians })}\n`);
    return 0;
  },
});

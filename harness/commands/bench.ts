import { Cluster, type Timings } from '../guest/cluster/cluster.ts';
import { InputError } from '../base/errors.ts';
import { median } from '../base/median.ts';
import { progress } from '../base/progress.ts';
import { Scope } from '../base/scope.ts';
import { defineCommand, intOption } from './command.ts';
import { clusterOptions, clusterOptionsHelp, clusterStartOptions, keepDisksHelp, keepDisksOption } from './cluster-options.ts';

const PHASES = ['qemu', 'ssh', 'quorum', 'daemon', 'total', 'teardown'] as const;

type BenchTimings = Timings & { teardown: number };

export default defineCommand({
  name: 'bench',
  summary: 'time cluster bring-up: boot, ssh, quorum, cmirrord',
  help: `usage: clogtest bench [cluster] [OPTIONS]

Brings a cluster up and down --runs times and prints, as one JSON object on stdout,
each run's phase timings in ms (qemu: QEMU answering QMP; ssh: guest boot to sshd;
quorum: corosync quorate on every node; daemon: cmirrord started; total: ready;
teardown: logs pulled and every QEMU gone) and their medians. A cluster restored from
a saved one (restoredFrom: its key) has qemu: states loaded, ssh: connected, quorum and
daemon: checked; the first run of a key boots and saves it (save: ms). --cold-boot
times booting instead. \`cluster\` is the only
benchmark so far and the default.

Options:
  --runs K                 bring-ups to time (default 3)
${keepDisksHelp}
${clusterOptionsHelp}`,
  options: { ...clusterOptions, ...keepDisksOption, runs: { type: 'string' } },
  allowPositionals: true,
  async run(values, positionals, ctx) {
    const unknown = positionals.filter((p) => p !== 'cluster');
    if (unknown.length) throw new InputError(`clogtest bench: unknown benchmark "${unknown[0]}" (only \`cluster\`)`);
    const runs = intOption('runs', values.runs, 3, 1, 100);
    const opts = await clusterStartOptions(values, 'bench');
    const timings: BenchTimings[] = [];
    for (let i = 0; i < runs; i++) {
      const scope = new Scope();
      // On Ctrl-C the command's scope closes this run's cluster too; closing twice is harmless.
      ctx.scope.defer(`bench run ${i + 1}`, () => void scope.close());
      let ready: Timings;
      try {
        ready = (await Cluster.start(opts, scope)).timings!;
      } catch (err) {
        await scope.close();
        throw err;
      }
      const t0 = Date.now();
      await scope.close();
      timings.push({ ...ready, teardown: Date.now() - t0 });
      progress(`bench run ${i + 1}/${runs}: ready in ${ready.total} ms, torn down in ${Date.now() - t0} ms`);
    }
    const medians = Object.fromEntries(PHASES.map((p) => [p, median(timings.map((t) => t[p]))]));
    process.stdout.write(`${JSON.stringify({ nodes: opts.nodes, runs: timings, median: medians })}\n`);
    return 0;
  },
});

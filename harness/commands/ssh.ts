import { readFileSync } from 'node:fs';
import { liveRun } from '../guest/cluster/run-info.ts';
import { InputError } from '../base/errors.ts';
import { connectWithRetry } from '../guest/remote/ssh.ts';
import { defineCommand } from './command.ts';

export default defineCommand({
  name: 'ssh',
  summary: 'log in to a node of the running cluster, or run one command there',
  help: `usage: clogtest ssh [--run DIR] NODE [COMMAND...]

Without COMMAND, opens an interactive root shell on NODE (1..N). With COMMAND, runs it
through the guest's shell, prints its output and exits with its exit code. Options
of clogtest ssh come before NODE; everything after NODE is the command.

Options:
  --run DIR    the run directory of the cluster (default: the newest running \`clogtest up\`)`,
  options: { run: { type: 'string' } },
  allowPositionals: true,
  optionsBeforePositionals: true,
  async run(values, positionals, { scope }) {
    const [nodeArg, ...words] = positionals;
    if (nodeArg === undefined || !/^\d+$/.test(nodeArg)) throw new InputError('ssh: give a node number (see `clogtest ssh --help`)');
    const info = liveRun(values.run);
    const node = info.nodes.find((n) => n.id === Number(nodeArg));
    if (!node) throw new InputError(`ssh: no node ${nodeArg} in ${info.dir} (nodes: ${info.nodes.map((n) => n.id).join(', ')})`);
    const ssh = await connectWithRetry({
      port: node.sshPort,
      privateKey: readFileSync(info.sshKey),
      label: `node${node.id}`,
      deadlineMs: 10_000,
    });
    scope.defer('close ssh', () => ssh.close());
    if (words.length) {
      const r = await ssh.exec(words.join(' '), { timeoutMs: 24 * 3600_000 });
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      return r.code;
    }
    return ssh.shell();
  },
});

import { liveRun } from '../guest/cluster/run-info.ts';
import { poll } from '../base/poll.ts';
import { progress } from '../base/progress.ts';
import { defineCommand } from './command.ts';
import { isAlive } from '../base/proc.ts';

const DEADLINE_MS = 120_000;

export default defineCommand({
  name: 'down',
  summary: 'stop the cluster a `clogtest up` is holding',
  help: `usage: clogtest down [--run DIR]

Sends SIGTERM to the \`clogtest up\` process of the cluster, which pulls the guests'
logs into the run directory and stops every QEMU, then waits for it to exit (${DEADLINE_MS / 1000}s at most).

Options:
  --run DIR    the run directory of the cluster (default: the newest running \`clogtest up\`)`,
  options: { run: { type: 'string' } },
  async run(values) {
    const info = liveRun(values.run);
    const pid = info.upPid!;
    progress(`stopping cluster ${info.name} (clogtest up, pid ${pid}) ...`);
    process.kill(pid, 'SIGTERM');
    await poll(`clogtest up (pid ${pid}) to exit`, DEADLINE_MS, 200, async () => (isAlive(pid) ? { done: false, seen: 'still running' } : { done: true, value: undefined }));
    progress(`cluster ${info.name} stopped; logs in ${info.dir}`);
    return 0;
  },
});

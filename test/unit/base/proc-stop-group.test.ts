import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { groupMembers, isAlive, stopGroup } from '../../../harness/base/proc.ts';

t.test('stopGroup kills a grandchild that ignores SIGTERM, after its leader is gone', async (t) => {
  // The leader (sh) dies of SIGTERM; the grandchild ignores it and would outlive it, holding stdout open.
  // The grandchild says its pid only once it ignores SIGTERM, so the test never signals it before that.
  const leader = spawn('sh', ['-c', `sh -c 'trap "" TERM; echo $$; exec sleep 60' & wait`], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const grandchild = await new Promise<number>((resolve) => leader.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  let leaderGone = false;
  leader.on('exit', () => (leaderGone = true));
  t.ok(isAlive(grandchild), `grandchild ${grandchild} runs`);
  const killed = await stopGroup(leader.pid!, () => leaderGone, 500);
  t.equal(killed, true, 'says SIGKILL was needed');
  await new Promise((r) => setTimeout(r, 200));
  t.same(groupMembers(leader.pid!), [], 'nothing of the group runs: the grandchild is gone (at most a zombie its new parent has not reaped)');
});

t.test('stopGroup of a group that is already gone does nothing', async (t) => {
  const p = spawn('true', [], { detached: true, stdio: 'ignore' });
  await new Promise((r) => p.on('exit', r));
  t.equal(await stopGroup(p.pid!, () => true, 100), false);
});

t.test('a daemon dies with the harness, even one killed with SIGKILL', async (t) => {
  // A harness process that starts a daemon, says its pid and waits to be killed.
  const script = `import { startDaemon } from ${JSON.stringify(new URL('../../../harness/base/proc.ts', import.meta.url).pathname)};
const d = startDaemon('sleep', ['300'], { logFile: '/dev/null' });
process.stdout.write(String(d.pid) + '\\n');
setInterval(() => {}, 1000);`;
  const harness = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const daemon = await new Promise<number>((resolve) => harness.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  for (const deadline = Date.now() + 5000; !/^sleep$/.test(comm(daemon)) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
  t.ok(isAlive(daemon), `daemon ${daemon} runs`);
  harness.kill('SIGKILL');
  for (const deadline = Date.now() + 5000; isAlive(daemon) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
  t.notOk(isAlive(daemon), 'the daemon is gone once its harness is');
});

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

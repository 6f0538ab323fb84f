/**
 * Ctrl-C in the middle of bring-up: `clogtest up` must tear down what it started
 * so far and leave no QEMU behind. The hub lives in the clogtest process, so the
 * process being gone means the hub is gone too.
 */
import './guard.ts';
import t from 'tap';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../harness/base/paths.ts';
import { isAlive } from '../../harness/base/proc.ts';

t.setTimeout(10 * 60_000);

/** PIDs of the QEMU processes whose parent is parent, read from /proc. */
function qemuChildren(parent: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').trim();
        const [, comm, rest] = /^\d+ \((.*)\) (.*)$/.exec(stat) ?? [];
        const ppid = Number(rest?.split(' ')[1]);
        return comm?.startsWith('qemu-system') && ppid === parent ? [Number(pid)] : [];
      } catch {
        return [];
      }
    });
}

/**
 * Starts `clogtest up --nodes 3 --cold-boot` (a restored cluster passes these stages too fast to interrupt), or args, and sends SIGINT once its stderr shows `stage` (before the cluster is ready):
 * the QEMU children it had then, its exit code to come, and its stderr so far.
 */
async function interruptedAt(stage: RegExp, args = ['up', '--nodes', '3', '--cold-boot'], qemuCount = 0) {
  const child = spawn(join(repoRoot, 'clogtest'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stderr: '' };
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  const qemu = await new Promise<number[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`clogtest ${args[0]} never reached ${stage}; stderr:\n${out.stderr}`)), 5 * 60_000);
    let reached = false;
    child.stderr.on('data', (d: Buffer) => {
      out.stderr += d.toString();
      if (stage.test(out.stderr) && !child.killed && !reached) {
        reached = true;
        clearTimeout(timer);
        void (async () => {
          // Up to 5 s for qemuCount QEMU children: a stage line comes before the processes it starts.
          for (const deadline = Date.now() + 5000; qemuChildren(child.pid!).length < qemuCount && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
          const pids = qemuChildren(child.pid!);
          child.kill('SIGINT');
          resolve(pids);
        })();
      }
    });
  });
  return { child, qemu, exited, out };
}

t.test('SIGINT during bring-up leaves no QEMU behind', async (t) => {
  const { qemu, exited, out } = await interruptedAt(/waiting for sshd/);
  const code = await exited;
  t.equal(qemu.length, 3, `interrupted with 3 guests booting (pids ${qemu.join(' ')})`);
  t.equal(code, 130, 'clogtest up exits 130 after SIGINT');
  t.match(out.stderr, /SIGINT received, tearing down/, 'says it is tearing down');
  t.same(qemu.filter(isAlive), [], 'no QEMU of this run is left');
  t.notMatch(out.stderr, /ready:/, 'the cluster never reported ready');
});

t.test('a second SIGINT stops at once, cutting the tear-down short, and still leaves no QEMU', async (t) => {
  // Once every guest has an ssh session, the tear-down collects their logs first: slow enough to cut short.
  const { child, qemu, exited, out } = await interruptedAt(/waiting for a quorate membership/);
  for (const deadline = Date.now() + 10_000; !/tearing down/.test(out.stderr) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
  const second = Date.now();
  child.kill('SIGINT');
  const code = await exited;
  t.ok(Date.now() - second < 5000, `exited ${Date.now() - second} ms after the second SIGINT`);
  t.equal(code, 130);
  t.match(out.stderr, /second SIGINT: stopping now/, 'says it stops without the rest of the tear-down');
  // SIGKILL is sent before the exit, but a QEMU with a guest's memory mapped takes a moment to go.
  for (const deadline = Date.now() + 10_000; qemu.some(isAlive) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 100));
  t.same(qemu.filter(isAlive), [], 'no QEMU of this run is left (waited up to 10 s for the killed ones to go)');
});

t.test('SIGINT while a saved cluster is restored leaves no QEMU behind', async (t) => {
  // The first bring-up restores a saved cluster, or boots and saves one that the second restores.
  const { qemu, exited, out } = await interruptedAt(/restoring 3 nodes from saved cluster/, ['bench', 'cluster', '--runs', '2'], 3);
  const code = await exited;
  t.equal(code, 130);
  t.match(out.stderr, /SIGINT received, tearing down/);
  t.equal(qemu.length, 3, `interrupted with 3 guests loading their state (pids ${qemu.join(' ')})`);
  t.same(qemu.filter(isAlive), [], 'none of them is left');
  // QEMU dies with its harness too: none of this run's survives it.
  const left = readdirSync('/proc').filter((e) => /^\d+$/.test(e)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('-bench/node');
    } catch {
      return false;
    }
  });
  t.same(left, [], 'no QEMU of a bench run directory is left');
});

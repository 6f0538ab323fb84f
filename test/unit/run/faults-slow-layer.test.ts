import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { heldWriteWaiter } from '../../../harness/guest/mirror/ops.ts';
import { statusLoopCommand } from '../../../harness/run/workload/run.ts';
import { tempDir } from '../../temp-dir.ts';

/** Runs a guest command with a fake dmsetup that prints `status` for every device. */
function withFakeDmsetup(t: Parameters<typeof tempDir>[0], status: string, cmd: string) {
  const bin = join(tempDir(t, 'clogtest-fakedm-'), 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'dmsetup'), `#!/bin/sh\necho "${status}"\n`);
  chmodSync(join(bin, 'dmsetup'), 0o755);
  return spawnSync('bash', ['-c', cmd], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8', timeout: 10_000 });
}

t.test('the held-write waiter returns at once when dm-delay holds a data write', async (t) => {
  const r = withFakeDmsetup(t, '0 131072 delay 0 1 0', heldWriteWaiter(['clog0-leg1'], 5));
  t.equal(r.status, 0);
});

t.test('held flushes and reads do not count; the waiter gives up with the counts it saw', async (t) => {
  const r = withFakeDmsetup(t, '0 131072 delay 3 0 2', heldWriteWaiter(['clog0-leg1'], 1));
  t.equal(r.status, 1);
  t.match(r.stdout, /0 131072 delay 3 0 2/);
});

t.test('waiting for a new write: one already held does not count, one that enters after the wait began does', async (t) => {
  const held = withFakeDmsetup(t, '0 131072 delay 0 1 0', heldWriteWaiter(['clog0-leg1'], 1, { newWrite: true }));
  t.equal(held.status, 1, 'held all along: its hold may be nearly over');
  // A dmsetup that reports nothing held on its first call and a held write from then on.
  const bin = join(tempDir(t, 'clogtest-fakedm-'), 'bin');
  mkdirSync(bin);
  const calls = join(bin, 'calls');
  writeFileSync(join(bin, 'dmsetup'), `#!/bin/sh
if [ -e ${calls} ]; then echo "0 131072 delay 0 1 0"; else touch ${calls}; echo "0 131072 delay 0 0 0"; fi
`);
  chmodSync(join(bin, 'dmsetup'), 0o755);
  const anew = spawnSync('bash', ['-c', heldWriteWaiter(['clog0-leg1'], 5, { newWrite: true })], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8', timeout: 10_000 });
  t.equal(anew.status, 0, 'a write that enters after the wait began');
});

t.test('the status loop runs dmsetup status and table until its time is up', async (t) => {
  const r = withFakeDmsetup(t, 'x', statusLoopCommand(1000));
  t.equal(r.status, 0);
  t.match(r.stdout, /^status loop: \d+ rounds$/m);
});

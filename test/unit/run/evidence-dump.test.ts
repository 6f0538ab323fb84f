import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dumpCommand } from '../../../harness/run/evidence/gather.ts';
import { tempDir } from '../../temp-dir.ts';

/**
 * A guest shell with a fake cmirrord: `kill -USR1` appends `answer` to its log (or nothing), and runs `then`
 * (a shell line that may start a background writer and leave its pid in $PIDFILE).
 */
function run(t: Parameters<typeof tempDir>[0], before: string, answer: string, then = '') {
  const dir = tempDir(t, 'clogtest-dump-');
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const log = join(dir, 'cmirrord.log');
  const pidFile = join(dir, 'writer.pid');
  writeFileSync(log, before);
  writeFileSync(join(bin, 'pidof'), '#!/bin/sh\necho 4242\n');
  writeFileSync(join(bin, 'kill'), `#!/bin/sh\nprintf '%s' '${answer}' >> ${log}\nLOG=${log}; PIDFILE=${pidFile}\n${then}\n`);
  for (const f of ['pidof', 'kill']) chmodSync(join(bin, f), 0o755);
  const t0 = Date.now();
  const r = spawnSync('bash', ['-c', `kill() { ${join(bin, 'kill')} "$@"; }; ${dumpCommand(log, 'LOG COMPONENT DEBUGGING::')}`], {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    encoding: 'utf8',
    timeout: 20_000,
  });
  const ms = Date.now() - t0;
  if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8')));
  return { ...r, ms, log: readFileSync(log, 'utf8') };
}

t.test('only what the log gained after the signal is read: a dump, not the errors before it', async (t) => {
  const r = run(t, 'cpg_dispatch failed: CS_ERR_LIBRARY\n'.repeat(1000) + '\nLOG COMPONENT DEBUGGING::\nold dump\n', '\nLOG COMPONENT DEBUGGING::\nnew dump\n');
  t.equal(r.status, 0);
  t.equal(r.stdout, '\nLOG COMPONENT DEBUGGING::\nnew dump\n');
});

t.test('a cmirrord that does not answer the signal gives no dump (exit 4), never an old one', async (t) => {
  const r = run(t, '\nLOG COMPONENT DEBUGGING::\nold dump\n', 'cpg_dispatch failed: CS_ERR_LIBRARY\n');
  t.equal(r.status, 4);
  t.equal(r.stdout, '');
});

t.test('a log that keeps growing after the dump began gives no dump (exit 5) within a few seconds', async (t) => {
  // As a spinning cmirrord does, a writer goes on appending errors after the dump.
  const r = run(t, '', '\nLOG COMPONENT DEBUGGING::\ndump\n', "( while :; do echo 'cpg_dispatch failed' >> $LOG; sleep 0.1; done ) >/dev/null 2>&1 &\necho $! > $PIDFILE");
  t.equal(r.status, 5);
  t.equal(r.stdout, '');
  t.ok(r.ms < 8_000, `gave up after ${r.ms} ms`);
});

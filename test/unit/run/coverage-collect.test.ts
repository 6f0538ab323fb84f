import t from 'tap';
import { collectScript, parseCollected } from '../../../harness/run/evidence/coverage.ts';
import type { BuildCoverage } from '../../../harness/stack/coverage.ts';

const builds: BuildCoverage[] = [
  { component: 'linux', notesDir: '/n/k', buildDir: '/c/work/kernel-1/build', sourceDir: '/c/work/kernel-1/src', files: ['drivers/md/dm-raid1.c'] },
  { component: 'cmirrord', notesDir: '/n/d', buildDir: '/c/work/cmirrord-2/lvm2', sourceDir: '/c/work/cmirrord-2/lvm2', files: ['daemons/cmirrord/clogd.c', 'daemons/cmirrord/functions.c'] },
];

t.test('the script reads the kernel counters from debugfs and resets them, and has cmirrord write its own first', async (t) => {
  const s = collectScript(builds);
  t.match(s, /emit linux \/sys\/kernel\/debug\/gcov\/c\/work\/kernel-1\/build\n/);
  t.match(s, /echo 1 > "\$f"/);
  t.match(s, /kill -USR2 \$pid/);
  t.match(s, /\[ \$n -gt 0 \] && \[ \$n = \$prev \] && break/, 'waits until fresh counter files stop appearing');
  t.match(s, /emit cmirrord \/var\/lib\/clogtest\/gcov\/c\/work\/cmirrord-2\/lvm2\n/);
  t.ok(s.indexOf('kill -USR2') < s.indexOf('emit cmirrord'));
});

t.test('the output comes back as files and notes; a path leaving the directory is refused', async (t) => {
  const out = `F linux drivers/md/dm-raid1.gcda\n${Buffer.from('abc').toString('base64')}\nN cmirrord was not running\n`;
  const got = parseCollected(out);
  t.same(got.files.map((f) => [f.component, f.path, f.bytes.toString()]), [['linux', 'drivers/md/dm-raid1.gcda', 'abc']]);
  t.same(got.notes, ['cmirrord was not running']);
  t.throws(() => parseCollected('F linux ../../etc/x.gcda\nAA==\n'), /refused counter path/);
});

/**
 * Proof that `git bisect run clogtest bisect-run` finds a real defect: a local git
 * history of Debian's lvm2 source with harmless commits around one that stops
 * cmirrord writing the log device when it handles a flush. Bisection must name
 * that commit. Slow (a cmirrord build and a cluster run per step): `make test-bisect`.
 */
import '../integration/guard.ts';
import t from 'tap';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureImage } from '../../harness/stack/image/index.ts';
import { debianLvm2Source } from '../../harness/stack/image/lvm2-source.ts';
import { repoRoot } from '../../harness/base/paths.ts';
import { defaultStack } from '../../harness/stack/stacks.ts';
import { run } from '../../harness/base/proc.ts';
import { $ } from 'zx';
import { tempDir } from '../temp-dir.ts';

t.setTimeout(60 * 60_000);

const FUNCTIONS_C = 'daemons/cmirrord/functions.c';
const SERVER_WRITES_ON_FLUSH = 'if (server && (lc->disk_fd >= 0)) {';
/** Looks like a tidy-up; since clog_flush returned early for !touched, the branch is now dead. */
const NEVER_WRITES_ON_FLUSH = 'if (server && (lc->disk_fd >= 0) && !lc->touched) {';

/**
 * Building the history is a short host-side script: zx's $ reads as the shell it replaces and quotes
 * every argument. (The harness itself spawns through harness/base/proc.ts, which tracks and kills groups.)
 */
async function commit(repo: string, message: string): Promise<string> {
  const git = $({ cwd: repo, quiet: true, timeout: '2m' });
  await git`git add -A -f .`;
  await git`git -c user.name=clogtest -c user.email=clogtest@invalid commit -q -m ${message}`;
  return (await git`git rev-parse HEAD`).stdout.trim();
}

t.test('git bisect run names the commit that stops cmirrord writing the log on flush', async (t) => {
  await ensureImage();
  const repo = tempDir(t, 'clogtest-lvm2-');
  const log = join(tempDir(t, 'clogtest-lvm2-fetch-'), 'fetch.log');
  await debianLvm2Source(defaultStack().lvm2, () => {}).copyTo(repo, log);
  await $({ cwd: repo, quiet: true })`git init -q`;
  const good = await commit(repo, 'lvm2 as Debian ships it');

  appendFileSync(join(repo, 'README'), '\nHarmless change 1.\n');
  await commit(repo, 'README: harmless change 1');
  appendFileSync(join(repo, 'WHATS_NEW_DM'), '\nHarmless change 2.\n');
  await commit(repo, 'WHATS_NEW_DM: harmless change 2');

  const source = readFileSync(join(repo, FUNCTIONS_C), 'utf8');
  t.ok(source.includes(SERVER_WRITES_ON_FLUSH), 'clog_flush is as expected in this lvm2');
  writeFileSync(join(repo, FUNCTIONS_C), source.replace(SERVER_WRITES_ON_FLUSH, NEVER_WRITES_ON_FLUSH));
  const defect = await commit(repo, 'cmirrord: only flush logs that were touched');

  appendFileSync(join(repo, 'README'), '\nHarmless change 3.\n');
  await commit(repo, 'README: harmless change 3');
  appendFileSync(join(repo, 'WHATS_NEW'), '\nHarmless change 4.\n');
  await commit(repo, 'WHATS_NEW: harmless change 4');

  await $({ cwd: repo, quiet: true })`git bisect start HEAD ${good}`;
  const bisect = await run(
    'git',
    ['-C', repo, 'bisect', 'run', join(repoRoot, 'clogtest'), 'bisect-run', '--repeat', '1', join(repoRoot, 'cases', 'healthy-sync.yaml')],
    { timeoutMs: 55 * 60_000, allowFailure: true, cwd: repo },
  );
  const output = `${bisect.stdout}\n${bisect.stderr}`;
  const first = /^([0-9a-f]{40}) is the first bad commit/m.exec(output)?.[1];
  t.equal(bisect.exitCode, 0, 'git bisect run finished');
  t.equal(first, defect, `bisection names the planted commit ${defect.slice(0, 12)}`);
  t.match(output, /bad: 1\/1 runs failed/, 'the bad revisions failed a check, not the infrastructure');
  await $({ cwd: repo, quiet: true })`git bisect reset`;
});

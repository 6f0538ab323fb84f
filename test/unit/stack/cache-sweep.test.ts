import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sweepStaging, withBuildLock, WORK_DIR } from '../../../harness/stack/cache.ts';
import { tempDir } from '../../temp-dir.ts';

t.test('staging directories of processes that are gone are swept; live ones and entries stay', async (t) => {
  const kind = tempDir(t, 'clogtest-sweep-');
  const gone = spawnSync('true').pid;
  const names = [`aaa.tmp-${gone}`, `bbb.tmp-${process.pid}`, 'aaa', 'ccc.tmp-x'];
  for (const n of names) mkdirSync(join(kind, n));
  sweepStaging(kind);
  t.same(
    names.map((n) => existsSync(join(kind, n))),
    [false, true, true, true],
  );
  sweepStaging(join(kind, 'missing'));
});

t.test("a build that takes the lock removes the scratch trees a build stopped by a signal left", async (t) => {
  const cache = tempDir(t, 'clogtest-cache-');
  const before = process.env.CLOGTEST_CACHE;
  process.env.CLOGTEST_CACHE = cache;
  t.teardown(() => (before === undefined ? delete process.env.CLOGTEST_CACHE : (process.env.CLOGTEST_CACHE = before)));
  mkdirSync(join(cache, WORK_DIR, 'kernel-0123', 'src'), { recursive: true });
  const seen = await withBuildLock('x', () => {}, async () => existsSync(join(cache, WORK_DIR, 'kernel-0123')));
  t.equal(seen, false);
  t.notOk(existsSync(join(cache, 'build.lock')), 'the lock is released');
});

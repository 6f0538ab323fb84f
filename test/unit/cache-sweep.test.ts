import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sweepStaging } from '../../harness/cache.ts';
import { tempDir } from '../temp-dir.ts';

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

import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../../harness/base/proc.ts';
import { makeLog } from '../../fixtures/oracle/build.ts';
import { tempDir } from '../../temp-dir.ts';

const clogtest = (...args: string[]) => run('./clogtest', ['decode-log', ...args], { allowFailure: true, timeoutMs: 30_000 });

t.test('clogtest decode-log', async (t) => {
  const dir = tempDir(t, 'decode-log-');
  const good = join(dir, 'log.img');
  const dirty = new Set([0, 1, 2, 3, 16]);
  // A 1 MiB device as the harness makes it: the log's bytes, then zeros.
  await writeFile(good, Buffer.concat([makeLog(20, (i) => !dirty.has(i)), Buffer.alloc(1 << 20)]));

  const text = await clogtest(good);
  t.equal(text.exitCode, 0, text.stderr);
  t.match(text.stdout, /regions:  20\nclean:    15\ndirty:    5 \(dirty or out of sync: 0-3,16\)/);

  const json = await clogtest(good, '--json', '--regions', '20');
  t.equal(json.exitCode, 0, json.stderr);
  t.match(JSON.parse(json.stdout), { magic: '0x4D695272', version: 2, regions: 20, clean: 15, dirty: 5, dirtyRanges: '0-3,16' });

  const mismatch = await clogtest(good, '--regions', '21');
  t.equal(mismatch.exitCode, 2);
  t.match(mismatch.stderr, `${good} is not a valid mirror log: header says 20 regions, the mirror's table implies 21`);

  const bad = join(dir, 'bad.img');
  await writeFile(bad, makeLog(20, () => true, { magic: 0xcafef00d }));
  const r = await clogtest(bad);
  t.equal(r.exitCode, 2);
  t.match(r.stderr, `${bad} is not a valid mirror log: bad magic 0xCAFEF00D, expected 0x4D695272`);
  t.notMatch(r.stderr, /at .*\.ts:\d+/, 'a plain message, no stack trace');

  const missing = await clogtest(join(dir, 'nope'));
  t.equal(missing.exitCode, 2);
  t.match(missing.stderr, /cannot open .*nope: ENOENT/);

  t.equal((await clogtest()).exitCode, 2);
});

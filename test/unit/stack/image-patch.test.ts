import t from 'tap';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../../harness/base/errors.ts';
import { CacheEntry } from '../../../harness/stack/cache.ts';
import { CONFIGURE_FLAGS, ensureCmirrord, type CmirrordPlan } from '../../../harness/stack/image/cmirrord.ts';
import type { Lvm2Source } from '../../../harness/stack/image/lvm2-source.ts';
import { tempDir } from '../../temp-dir.ts';

const dir = tempDir(t, 'clogtest-image-patch-');
process.env.CLOGTEST_CACHE = join(dir, 'cache');

const ORIGINAL = 'int main(void)\n{\n\tLOG_PRINT("Starting cmirrord:");\n\treturn 0;\n}\n';
const pristine = join(dir, 'pristine');
mkdirSync(join(pristine, 'daemons', 'cmirrord'), { recursive: true });
writeFileSync(join(pristine, 'daemons', 'cmirrord', 'clogd.c'), ORIGINAL);

/** A source that copies the tiny tree above, so the test exercises the real patch step without lvm2. */
const source: Lvm2Source = {
  identity: 'test',
  description: 'test tree',
  async copyTo(to) {
    mkdirSync(join(to, 'daemons', 'cmirrord'), { recursive: true });
    writeFileSync(join(to, 'daemons', 'cmirrord', 'clogd.c'), readFileSync(join(pristine, 'daemons', 'cmirrord', 'clogd.c')));
  },
};

function plan(patchBody: string, name: string): CmirrordPlan {
  const file = join(dir, name);
  writeFileSync(file, patchBody);
  const patches = [{ file, origin: '--daemon-patch', strip: 1 }];
  return {
    key: name,
    entry: new CacheEntry('cmirrord', name),
    source,
    patches,
    inputs: { source: 'test', patches, configureFlags: CONFIGURE_FLAGS, makeVars: [], toolchain: 'none' },
  };
}

t.test('a patch that does not apply is an input error naming the patch, file and hunk', async (t) => {
  const body = `--- a/daemons/cmirrord/clogd.c
+++ b/daemons/cmirrord/clogd.c
@@ -1,5 +1,5 @@
 int main(void)
 {
-\tLOG_PRINT("Starting something else:");
+\tLOG_PRINT("Starting patched:");
 \treturn 0;
 }
`;
  const err = await ensureCmirrord(plan(body, 'bad.patch'), () => {}).catch((e: unknown) => e);
  t.ok(err instanceof InputError, 'InputError (exit 2)');
  const msg = (err as Error).message;
  t.match(msg, join(dir, 'bad.patch'));
  t.match(msg, /--daemon-patch/);
  t.match(msg, /daemons\/cmirrord\/clogd\.c hunk #1/);
  t.equal(readFileSync(join(pristine, 'daemons', 'cmirrord', 'clogd.c'), 'utf8'), ORIGINAL, 'the source tree is untouched');
  t.notOk(existsSync(join(process.env.CLOGTEST_CACHE!, 'work', 'cmirrord-bad.patch')), 'the scratch copy is gone');
});

t.test('something that is not a patch is an input error too', async (t) => {
  const err = await ensureCmirrord(plan('hello\n', 'garbage.patch'), () => {}).catch((e: unknown) => e);
  t.ok(err instanceof InputError);
  t.match((err as Error).message, /garbage\.patch \(--daemon-patch\) does not apply/);
});

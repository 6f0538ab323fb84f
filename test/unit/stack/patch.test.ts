import t from 'tap';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { applyPatch, describePatchFailure } from '../../../harness/stack/patch.ts';
import { tempDir } from '../../temp-dir.ts';

function tree(): string {
  const dir = tempDir(t, 'patch-');
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'f.c'), 'one\ntwo\nthree\n');
  return dir;
}

const good = `--- a/f.c
+++ b/f.c
@@ -1,3 +1,3 @@
 one
-two
+TWO
 three
`;

t.test('a good patch applies', async (t) => {
  const dir = tree();
  writeFileSync(join(dir, 'good.patch'), good);
  await applyPatch(join(dir, 'src'), { file: join(dir, 'good.patch'), origin: 'test', strip: 1 });
  t.equal(readFileSync(join(dir, 'src', 'f.c'), 'utf8'), 'one\nTWO\nthree\n');
});

t.test('a rejected hunk names the patch, file and hunk and leaves the tree untouched', async (t) => {
  const dir = tree();
  writeFileSync(join(dir, 'bad.patch'), good.replace(' one\n-two', ' one\n-zwei'));
  await t.rejects(applyPatch(join(dir, 'src'), { file: join(dir, 'bad.patch'), origin: 'series:3', strip: 1 }), {
    exitCode: 2,
    message: `patch ${dir}/bad.patch (series:3) does not apply: rejected: f.c hunk #1 (at line 1)`,
  });
  t.equal(readFileSync(join(dir, 'src', 'f.c'), 'utf8'), 'one\ntwo\nthree\n');
});

t.test('garbage is not a patch', async (t) => {
  const dir = tree();
  writeFileSync(join(dir, 'junk.patch'), 'this is not a patch\n');
  await t.rejects(applyPatch(join(dir, 'src'), { file: join(dir, 'junk.patch'), origin: '--kernel-patch', strip: 1 }), {
    exitCode: 2,
    message: new RegExp(`patch ${dir}/junk.patch \\(--kernel-patch\\) does not apply`),
  });
});

t.test('failure descriptions', async (t) => {
  t.equal(describePatchFailure("can't find file to patch at input line 3\n"), 'rejected: a file it patches does not exist (patch input line 3)');
  t.equal(describePatchFailure('patch: **** Only garbage was found in the patch input.\n'), 'it is not a valid patch');
});

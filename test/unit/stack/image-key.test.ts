import t from 'tap';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cmirrordKey, CONFIGURE_FLAGS } from '../../../harness/stack/image/cmirrord.ts';
import { imageKey } from '../../../harness/stack/image/build.ts';
import { parsePackages, recipeParts } from '../../../harness/stack/image/recipe.ts';
import { rootfsKey } from '../../../harness/stack/image/rootfs.ts';
import type { PatchRef } from '../../../harness/stack/patch.ts';
import { tempDir } from '../../temp-dir.ts';

const dir = tempDir(t, 'clogtest-image-key-');

function patchFile(name: string, body: string): PatchRef {
  const file = join(dir, name);
  writeFileSync(file, body);
  return { file, origin: '--daemon-patch', strip: 1 };
}

const base = { source: 'debian:lvm2_2.03.16-2.dsc:SHA256:abc', configureFlags: CONFIGURE_FLAGS, makeVars: [], toolchain: 'gcc (Debian 12.2.0-14) 12.2.0' };

t.test('the cmirrord key follows every byte of every patch', async (t) => {
  const a = patchFile('a.patch', '--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n');
  const same = patchFile('same.patch', '--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n');
  const b = patchFile('b.patch', '--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+neW\n');
  const k = cmirrordKey({ ...base, patches: [a] });
  t.equal(cmirrordKey({ ...base, patches: [a] }), k, 'same inputs, same key');
  t.equal(cmirrordKey({ ...base, patches: [same] }), k, 'the file name is not what counts: same bytes, same key');
  t.not(cmirrordKey({ ...base, patches: [b] }), k, 'one changed byte, new key');
  t.not(cmirrordKey({ ...base, patches: [] }), k, 'no patch, new key');
  t.not(cmirrordKey({ ...base, patches: [a, b] }), cmirrordKey({ ...base, patches: [b, a] }), 'order matters');
  t.not(cmirrordKey({ ...base, source: 'git:1234:abcd', patches: [a] }), k, 'source identity counts');
  t.not(cmirrordKey({ ...base, toolchain: 'gcc 13', patches: [a] }), k, 'compiler counts');
  t.not(cmirrordKey({ ...base, configureFlags: [...CONFIGURE_FLAGS, '--enable-debug'], patches: [a] }), k, 'configure flags count');
  t.not(cmirrordKey({ ...base, makeVars: ['EXTRA_EXEC_CFLAGS=--coverage'], patches: [a] }), k, "a coverage build's make variables count");
});

t.test('the image key follows the recipe files, their mode and the daemon', async (t) => {
  const recipe = join(dir, 'vm-images');
  mkdirSync(join(recipe, 'guest'), { recursive: true });
  writeFileSync(join(recipe, 'packages.txt'), 'corosync\n');
  writeFileSync(join(recipe, 'guest', 'init'), '#!/bin/bash\n');
  const inputs = { recipe: recipeParts(recipe), rootfsKey: rootfsKey(['corosync']), cmirrordKey: 'c1', patches: [] };
  const k = imageKey(inputs);
  t.equal(imageKey({ ...inputs, recipe: recipeParts(recipe) }), k, 'same files, same key');
  chmodSync(join(recipe, 'guest', 'init'), 0o755);
  t.not(imageKey({ ...inputs, recipe: recipeParts(recipe) }), k, 'making init executable changes the key');
  writeFileSync(join(recipe, 'guest', 'init'), '#!/bin/bash\n#\n');
  t.not(imageKey({ ...inputs, recipe: recipeParts(recipe) }), k, 'editing init changes the key');
  t.not(imageKey({ ...inputs, cmirrordKey: 'c2' }), k, 'a different cmirrord changes the key');
  t.not(imageKey({ ...inputs, patches: [patchFile('p.patch', 'x')] }), k, 'a daemon patch changes the key');
  const withLink = imageKey({ ...inputs, recipe: recipeParts(recipe) });
  // A link to a guest path that is a directory on the host (or missing there) counts by its target.
  symlinkSync('/proc/self/fd', join(recipe, 'guest', 'fd'));
  const linked = imageKey({ ...inputs, recipe: recipeParts(recipe) });
  t.not(linked, withLink, 'adding a symbolic link changes the key');
  rmSync(join(recipe, 'guest', 'fd'));
  symlinkSync('/proc/self/fd/0', join(recipe, 'guest', 'fd'));
  t.not(imageKey({ ...inputs, recipe: recipeParts(recipe) }), linked, 'retargeting it changes the key');
});

t.test('the rootfs key depends on the package set, not its order', async (t) => {
  t.equal(rootfsKey(['a', 'b']), rootfsKey(['b', 'a']));
  t.not(rootfsKey(['a', 'b']), rootfsKey(['a', 'b', 'c']));
});

t.test('package list parsing', async (t) => {
  t.same(parsePackages('# comment\ncorosync\n\n  dmsetup  # why\n', 'p.txt'), ['corosync', 'dmsetup']);
  t.throws(() => parsePackages('corosync\nbad name\n', 'vm-images/packages.txt'), /vm-images\/packages\.txt:2: "bad name"/);
});

t.test('the defect corpus is not part of the stock image', async (t) => {
  const files = recipeParts().map(([label]) => label);
  t.ok(files.some((f) => / guest\/init$/.test(f)), 'the guest init is');
  t.same(files.filter((f) => / defects\//.test(f)), []);
});

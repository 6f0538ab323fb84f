import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kernelKey, type KernelInputs } from '../../../harness/stack/kernel/build.ts';
import { tempDir } from '../../temp-dir.ts';

const dir = tempDir(t, 'kkey-');
const patch = join(dir, 'a.patch');
const frag = join(dir, 'a.config');
writeFileSync(patch, 'diff --git a/x b/x\n');
writeFileSync(frag, 'CONFIG_NET=y\n');

function inputs(): KernelInputs {
  return { source: { identity: 'debian:linux-source-6.1=6.1.1' }, patches: [{ file: patch, origin: 'series:1', strip: 1 }], fragments: [frag], compiler: 'gcc 12' };
}

t.test('same inputs, same key', async (t) => {
  t.equal(kernelKey(inputs()), kernelKey(inputs()));
  t.match(kernelKey(inputs()), /^[0-9a-f]{24}$/);
});

t.test('one patch byte changes the key', async (t) => {
  const before = kernelKey(inputs());
  writeFileSync(patch, 'diff --git a/x b/y\n');
  t.not(kernelKey(inputs()), before);
});

t.test('fragment bytes, source, compiler and patch order each change the key', async (t) => {
  const base = kernelKey(inputs());
  writeFileSync(frag, 'CONFIG_NET=y\nCONFIG_MD=y\n');
  t.not(kernelKey(inputs()), base, 'fragment');
  const now = kernelKey(inputs());
  t.not(kernelKey({ ...inputs(), source: { identity: 'git:abc:def' } }), now, 'source');
  t.not(kernelKey({ ...inputs(), compiler: 'gcc 13' }), now, 'compiler');
  const p2 = join(dir, 'b.patch');
  writeFileSync(p2, 'other\n');
  const ab = kernelKey({ ...inputs(), patches: [inputs().patches[0], { file: p2, origin: 'x', strip: 1 }] });
  const ba = kernelKey({ ...inputs(), patches: [{ file: p2, origin: 'x', strip: 1 }, inputs().patches[0]] });
  t.not(ab, ba, 'order');
});

t.test('moving bytes between a patch and a fragment changes the key', async (t) => {
  writeFileSync(patch, 'AB');
  writeFileSync(frag, 'C');
  const one = kernelKey(inputs());
  writeFileSync(patch, 'A');
  writeFileSync(frag, 'BC');
  t.not(kernelKey(inputs()), one);
});

import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DEB_SRC_ENTRIES } from '../../../harness/stack/host/packages.ts';
import { debSrcSuites } from '../../../harness/stack/host/setup.ts';
import { parseMadison, parsePrintUris } from '../../../harness/stack/host/debian-archive.ts';
import { recipeParts } from '../../../harness/stack/image/recipe.ts';
import { kernelKey, SERIES_FILE } from '../../../harness/stack/kernel/build.ts';
import { loadSeries, withPatchForms } from '../../../harness/stack/kernel/series.ts';
import { debianSource } from '../../../harness/stack/kernel/source.ts';
import { debianLvm2Source } from '../../../harness/stack/image/lvm2-source.ts';
import { loadStacks, parseStacks, pinsOf, stackNamed, stacksNamed, STACKS_FILE, withPins } from '../../../harness/stack/stacks.ts';
import { parse } from 'yaml';
import { repoRoot } from '../../../harness/base/paths.ts';
import { tempDir } from '../../temp-dir.ts';

const GOOD = `# a comment that must survive an update
stacks:
  one:
    about: the first
    kernel: {package: linux-source-6.1, suite: bookworm-security, version: 6.1.1-1}
    lvm2: {suite: bookworm, version: 2.03.16-2, dsc-sha256: ${'a'.repeat(64)}}
  two:
    kernel: {source: linux, suite: unstable, version: 7.2.8-1, dsc-sha256: ${'b'.repeat(64)}}
    lvm2: {suite: unstable, version: 2.03.31-2, dsc-sha256: ${'c'.repeat(64)}}
    kernel-patch-forms: {x.patch: forms/7.2/x.patch}
`;

t.test('the stacks file: pins of either kind, forms, the first stack the default', async (t) => {
  const [one, two] = parseStacks(GOOD, 'stacks.yaml');
  t.same(one!.kernel, { kind: 'package', package: 'linux-source-6.1', suite: 'bookworm-security', version: '6.1.1-1' });
  t.equal(two!.kernel.kind, 'source');
  t.equal(two!.lvm2.version, '2.03.31-2');
  t.match([...two!.kernelPatchForms.values()][0], /kernel-patches\/forms\/7\.2\/x\.patch$/);
  const stacks = parseStacks(GOOD, 'stacks.yaml');
  t.equal(stackNamed(undefined, stacks).name, 'one');
  t.same(stacksNamed('two,one', stacks).map((s) => s.name), ['two', 'one']);
  t.same(stacksNamed('all', stacks).map((s) => s.name), ['one', 'two']);
  t.throws(() => stackNamed('three', stacks), /--stack three: no such stack; .* has one, two/);
  t.throws(() => stackNamed('one,two', stacks), /only `clogtest run` takes a list/);
  t.throws(() => stacksNamed('one,one', stacks), /one is named twice/);
});

t.test('a bad stacks file names its file, line and stack', async (t) => {
  t.throws(() => parseStacks('stacks: {}\n', 'f.yaml'), /f\.yaml:1: no "stacks:" mapping/);
  const noLvm2 = 'stacks:\n  x:\n    kernel: {package: p, suite: s, version: v}\n';
  t.throws(() => parseStacks(noLvm2, 'f.yaml'), /f\.yaml:2: stack x: lvm2 is missing/);
  const both = `stacks:\n  x:\n    kernel: {package: p, source: linux, suite: s, version: v}\n    lvm2: {suite: s, version: v, dsc-sha256: ${'a'.repeat(64)}}\n`;
  t.throws(() => parseStacks(both, 'f.yaml'), /either package: .* or source:/);
  const badSum = 'stacks:\n  x:\n    kernel: {package: p, suite: s, version: v}\n    lvm2: {suite: s, version: v, dsc-sha256: abc}\n';
  t.throws(() => parseStacks(badSum, 'f.yaml'), /lvm2\.dsc-sha256 is not a SHA-256/);
  t.throws(() => parseStacks(GOOD.replace('about: the first', 'abut: x'), 'f.yaml'), /unknown key "abut"/);
});

t.test('an update rewrites pins and keeps comments and order', async (t) => {
  const [, two] = parseStacks(GOOD, 'stacks.yaml');
  const kernelPin = pinsOf(two!)[0]!;
  const text = withPins(GOOD, [{ path: kernelPin.path, version: '7.2.9-1', dscSha256: 'd'.repeat(64) }]);
  t.match(text, /^# a comment that must survive an update/);
  const again = parseStacks(text, 'stacks.yaml');
  t.same(again.map((s) => s.name), ['one', 'two']);
  t.same(again[1]!.kernel, { kind: 'source', source: 'linux', suite: 'unstable', version: '7.2.9-1', dscSha256: 'd'.repeat(64) });
  t.equal(again[0]!.kernel.version, '6.1.1-1', 'the other stack is untouched');
});

t.test("apt's answers: --print-uris lines and madison rows of one suite", async (t) => {
  const uris = `Need to get 1824 kB of source archives.
'http://deb.debian.org/debian/pool/main/l/lvm2/lvm2_2.03.16-2.dsc' lvm2_2.03.16-2.dsc 2715 SHA256:${'9'.repeat(64)}
'http://deb.debian.org/debian/pool/main/l/lvm2/lvm2_2.03.16.orig.tar.xz' lvm2_2.03.16.orig.tar.xz 1790340 SHA256:${'8'.repeat(64)}
`;
  t.same(parsePrintUris(uris)[0], { uri: 'http://deb.debian.org/debian/pool/main/l/lvm2/lvm2_2.03.16-2.dsc', file: 'lvm2_2.03.16-2.dsc', sha256: '9'.repeat(64) });
  t.equal(parsePrintUris(uris).length, 2);
  const madison = ` linux-source-6.12 | 6.12.117-1~deb12u1 | http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
 linux-source-6.12 | 6.12.115-2~deb12u1 | http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
 linux-source-6.12 | 6.12.99-1 | http://deb.debian.org/debian bookworm-backports/main amd64 Packages
`;
  t.same(parseMadison(madison, 'bookworm-security'), ['6.12.117-1~deb12u1', '6.12.115-2~deb12u1']);
  t.same(parseMadison(madison, 'bookworm-backports'), ['6.12.99-1']);
});

t.test("the project's stacks file: every stack's forms exist, and its keys differ from the default's", async (t) => {
  const stacks = loadStacks();
  t.equal(stacks[0]!.name, 'debian-12', 'the default stack is Debian 12 as it ships');
  const series = loadSeries(SERIES_FILE);
  const inputs = { fragments: [], compiler: 'gcc 12' };
  const keys = stacks.map((s) => {
    const patches = withPatchForms(series, s.kernelPatchForms, s.name);
    return kernelKey({ ...inputs, source: debianSource(s.kernel, () => {}), patches });
  });
  t.equal(new Set(keys).size, stacks.length, 'each stack has a kernel key of its own');
  const identities = stacks.map((s) => debianLvm2Source(s.lvm2, () => {}).identity);
  t.match(identities[0], /^debian:lvm2_2\.03\.16-2\.dsc:SHA256:[0-9a-f]{64}$/);
  t.ok(!recipeParts().some(([label]) => label.endsWith(basename(STACKS_FILE))), 'a pin reaches an image only through its builds');
});

t.test("a stack's form replaces its patch; a form for no patch of the series is an error", async (t) => {
  const dir = tempDir(t, 'clogtest-forms-');
  const form = join(dir, 'a-form.patch');
  writeFileSync(form, '');
  const refs = [{ file: '/k/a.patch', origin: 'series:1', strip: 1 }, { file: '/k/b.patch', origin: 'series:2', strip: 1 }];
  const out = withPatchForms(refs, new Map([['a.patch', form]]), 's');
  t.equal(out[0]!.file, form);
  t.match(out[0]!.origin, /series:1, in stack s's form/);
  t.equal(out[1]!.file, '/k/b.patch');
  t.throws(() => withPatchForms(refs, new Map([['c.patch', form]]), 's'), /kernel-patch-forms names c\.patch, which kernel-patches\/series does not list/);
  t.throws(() => withPatchForms(refs, new Map([['a.patch', join(dir, 'gone.patch')]]), 's'), /does not exist/);
});

t.test('deb-src coverage: one-line and deb822 entries, sid as unstable; setup covers every suite a stack fetches sources from', async (t) => {
  const etc = tempDir(t, 'clogtest-apt-');
  mkdirSync(join(etc, 'sources.list.d'));
  writeFileSync(join(etc, 'sources.list'), 'deb http://x bookworm main\ndeb-src [signed-by=/k.gpg] http://x bookworm main\n');
  writeFileSync(join(etc, 'sources.list.d', 'a.sources'), 'Types: deb deb-src\nURIs: http://x\nSuites: sid\nComponents: main\n\nTypes: deb-src\nEnabled: no\nSuites: trixie\n');
  writeFileSync(join(etc, 'sources.list.d', 'b.list.disabled'), 'deb-src http://x experimental main\n');
  t.same([...debSrcSuites(etc)].sort(), ['bookworm', 'unstable']);
  const fetched = new Set(loadStacks().flatMap((s) => [...(s.kernel.kind === 'source' ? [s.kernel.suite] : []), s.lvm2.suite]));
  const added = new Set(DEB_SRC_ENTRIES.flatMap((e) => e.suites));
  t.same([...fetched].filter((s) => !added.has(s)), [], 'no stack needs a deb-src entry setup does not add');
  for (const e of DEB_SRC_ENTRIES) t.match(e.text, /^Types: deb-src$/m, `${e.file} adds sources only`);
});

t.test('the nightly matrix builds and runs every stack of the stacks file', async (t) => {
  const nightly = parse(readFileSync(join(repoRoot, 'ci', 'nightly-kvm.yml'), 'utf8'));
  const names = loadStacks().map((s) => s.name);
  t.same(nightly.jobs.build.strategy.matrix.stack, names);
  t.same(nightly.jobs.suite.strategy.matrix.stack, names);
});

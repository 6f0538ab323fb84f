import t from 'tap';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIX_DIRS, fixPatches, withFixes } from '../../../harness/stack/fixes.ts';
import { DAEMON_PATCH_DIRS } from '../../../harness/stack/image/recipe.ts';
import { tempDir } from '../../temp-dir.ts';
import { repoRoot } from '../../../harness/base/paths.ts';

t.test('fix patches are listed in their numbers\' order, other files left out', async (t) => {
  const dir = join(tempDir(t, 'clogtest-fixes-'), 'fixes');
  mkdirSync(dir);
  for (const f of ['0002-b.patch', '0001-a.patch', 'README']) writeFileSync(join(dir, f), '');
  t.same(fixPatches('daemon', dir), [join(dir, '0001-a.patch'), join(dir, '0002-b.patch')]);
  t.same(fixPatches('daemon', join(dir, 'none')), []);
});

t.test('--fixes appends every fix after the patches given; without it the given ones only', async (t) => {
  t.same(withFixes(['mine.patch'], false, 'daemon'), ['mine.patch']);
  t.equal(withFixes(undefined, false, 'daemon'), undefined);
  const all = withFixes(['mine.patch'], true, 'daemon')!;
  t.equal(all[0], 'mine.patch');
  t.same(all.slice(1), fixPatches('daemon'));
  t.ok(all.length > 1, 'the repository has at least one cmirrord fix');
});

t.test('the fixes are not part of the stock image\'s recipe', async (t) => {
  t.ok(DAEMON_PATCH_DIRS.includes(FIX_DIRS.daemon));
});

t.test('every fix is in the form lvm2 and dm-devel take, and its reproducer is a case of the suite', async (t) => {
  for (const kind of ['daemon', 'kernel'] as const) {
    for (const file of fixPatches(kind, FIX_DIRS[kind])) {
      const text = readFileSync(file, 'utf8');
      const header = text.slice(0, text.indexOf('\n--- a/'));
      t.match(header, /^From: .+\nSubject: \[PATCH( \d+\/\d+)?\] .+\n\n/, `${file}: From and Subject lines, then the body`);
      t.notMatch(header, /Signed-off-by:/, `${file}: no sign-off (whoever sends it adds their own)`);
      const repro = /^Reproducer: clogtest run ((?:cases\/[\w-]+\.yaml ?)+)$/m.exec(header);
      t.ok(repro, `${file}: a "Reproducer: clogtest run cases/X.yaml" line`);
      for (const c of repro?.[1]!.trim().split(' ') ?? []) t.ok(existsSync(join(repoRoot, c)), `${file}: ${c} exists`);
    }
  }
});

import t from 'tap';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FIX_DIRS, fixPatches, withFixes } from '../../../harness/stack/fixes.ts';
import { DAEMON_PATCH_DIRS } from '../../../harness/stack/image/recipe.ts';
import { tempDir } from '../../temp-dir.ts';
import { repoRoot } from '../../../harness/base/paths.ts';
import { KNOWN_BUGS } from '../../../harness/case/known-bugs.ts';

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

const SIDES = ['daemon', 'kernel'] as const;
/** How a patch's message names the other side's patches: lvm2 "Subject" or kernel 0002. */
const SIDE_WORD = { daemon: 'lvm2', kernel: 'kernel' } as const;
const sideNamed = (word: string) => SIDES.find((side) => SIDE_WORD[side] === word)!;

interface FixMessage {
  file: string;
  side: (typeof SIDES)[number];
  number: string;
  subject: string;
  /** The message: everything before the "---" line that ends it. */
  message: string;
}

function fixMessages(): FixMessage[] {
  return SIDES.flatMap((side) =>
    fixPatches(side, FIX_DIRS[side]).map((file) => {
      const text = readFileSync(file, 'utf8');
      const end = text.indexOf('\n---\n');
      const message = end < 0 ? text : text.slice(0, end + 1);
      const name = basename(file);
      return { file: name, side, number: name.slice(0, 4), subject: /^Subject: \[PATCH[^\]]*\] (.+)$/m.exec(message)?.[1] ?? '', message };
    }),
  );
}

t.test('every fix is in the form lvm2 and dm-devel take, and its reproducer is a case of the suite', async (t) => {
  for (const { file, message } of fixMessages()) {
    t.match(message, /^From: .+\nSubject: \[PATCH( \d+\/\d+)?\] .+\n\n/, `${file}: From and Subject lines, then the body`);
    t.notMatch(message, /Signed-off-by:/, `${file}: no sign-off (whoever sends it adds their own)`);
    // Why (what is seen, and its cause in the source), what the patch does, how it was tested.
    const order = ['Seen with clogtest', 'Cause:', 'Fix:', 'Tested:', 'Reproducer:', 'Depends on:'].map((w) => message.search(new RegExp(`^${w}`, 'm')));
    t.ok(order.every((at) => at > 0), `${file}: has "Seen with clogtest", "Cause:", "Fix:", "Tested:", "Reproducer:" and "Depends on:" paragraphs`);
    t.same([...order].sort((a, b) => a - b), order, `${file}: in that order`);
    const repro = /^Reproducer: clogtest run ((?:cases\/[\w-]+\.yaml ?)+)$/m.exec(message);
    t.ok(repro, `${file}: a "Reproducer: clogtest run cases/X.yaml" line`);
    for (const c of repro?.[1]!.trim().split(' ') ?? []) t.ok(existsSync(join(repoRoot, c)), `${file}: ${c} exists`);
  }
});

t.test('a fix names its dependencies as patches of the series, by number or by subject', async (t) => {
  const all = fixMessages();
  for (const m of all) {
    const depends = /^Depends on: ([\s\S]*)$/m.exec(m.message)?.[1] ?? '';
    t.ok(depends.trim(), `${m.file}: says what it depends on ("none" when nothing)`);
    const text = depends.replace(/\s+/g, ' ');
    for (const [, word, subject] of text.matchAll(/\b(lvm2|kernel) "([^"]+)"/g)) {
      t.ok(all.some((o) => o.side === sideNamed(word!) && o.subject === subject), `${m.file}: ${word} "${subject}" is a fix of the series`);
    }
    for (const [, word, number] of text.replace(/"[^"]*"/g, '').matchAll(/\b(?:(lvm2|kernel) )?(\d{4})\b/g)) {
      const side = word === undefined ? m.side : sideNamed(word);
      t.ok(all.some((o) => o.side === side && o.number === number), `${m.file}: ${word ?? SIDE_WORD[m.side]} ${number} is a fix of the series`);
    }
  }
});

t.test('the fixes are numbered without gaps, and each is the fix of a known bug', async (t) => {
  const all = fixMessages();
  for (const side of SIDES) {
    const numbers = all.filter((m) => m.side === side).map((m) => Number(m.number));
    t.same(numbers, numbers.map((_, i) => i + 1), `${side}: 0001 on, no gaps`);
  }
  const named = new Set([...KNOWN_BUGS.values()].flatMap((b) => b.fixes));
  for (const m of all) t.ok(named.has(m.file), `${m.file} is a known bug's fix (harness/case/known-bugs.ts)`);
});

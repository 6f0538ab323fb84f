/**
 * docs/architecture.md's module map names every folder and every loose .ts file directly under harness/, and
 * nothing else: a module added, renamed or removed without its line in the map fails here.
 * An entry is a line starting with "- `harness/NAME/`" (a folder) or "- `harness/NAME.ts`" (a file).
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../harness/base/paths.ts';

const DOC = join(repoRoot, 'docs', 'architecture.md');
const HARNESS = join(repoRoot, 'harness');

/** The map's entries, as "NAME/" for a folder and "NAME.ts" for a file, in the order written. */
function mapEntries(markdown: string): string[] {
  return [...markdown.matchAll(/^- `harness\/([^`/\s]+\/?)`/gm)].map((m) => m[1]!);
}

/** harness/'s folders ("NAME/") and loose .ts files ("NAME.ts"), depth 1. */
function treeEntries(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [`${e.name}/`] : e.name.endsWith('.ts') ? [e.name] : []));
}

/** What the map lacks, what it names that is not there, and what it names twice. */
function compare(map: string[], tree: string[]): { missing: string[]; extra: string[]; twice: string[] } {
  const inMap = new Set(map);
  const inTree = new Set(tree);
  return {
    missing: tree.filter((e) => !inMap.has(e)).sort(),
    extra: [...inMap].filter((e) => !inTree.has(e)).sort(),
    twice: [...new Set(map.filter((e, i) => map.indexOf(e) !== i))].sort(),
  };
}

t.test('the module map names every folder and loose .ts file under harness/, and only those', async (t) => {
  const map = mapEntries(readFileSync(DOC, 'utf8'));
  const tree = treeEntries(HARNESS);
  t.ok(tree.length >= 8, `${tree.length} entries under harness/`);
  t.ok(map.length >= 8, `${map.length} entries in docs/architecture.md`);
  const { missing, extra, twice } = compare(map, tree);
  t.same(missing, [], 'every folder and loose .ts file under harness/ has a line in docs/architecture.md');
  t.same(extra, [], 'every line of the map names something under harness/');
  t.same(twice, [], 'no entry is listed twice');
});

t.test('the parser reads folders and files, and the comparison finds what is missing or made up', async (t) => {
  const doc = [
    '# Map',
    '- `harness/cli.ts`: argv to exit code.',
    '- `harness/oracle/`: decoders.',
    '  - `harness/nested.ts` is not an entry: it is indented.',
    'Text that mentions `harness/other/` is not an entry either.',
    '- `harness/gone/`: a folder that was removed.',
    '- `harness/cli.ts`: listed again.',
  ].join('\n');
  const map = mapEntries(doc);
  t.same(map, ['cli.ts', 'oracle/', 'gone/', 'cli.ts']);
  t.same(compare(map, ['cli.ts', 'oracle/', 'new.ts']), { missing: ['new.ts'], extra: ['gone/'], twice: ['cli.ts'] });
  t.same(compare(['oracle.ts'], ['oracle/']), { missing: ['oracle/'], extra: ['oracle.ts'], twice: [] }, 'a folder listed as a file is both missing and made up');
});

/**
 * Which part of harness/ may import which, as Playwright keeps a DEPS.list per folder and checks it in lint.
 * Lower layers never import higher ones: the oracle and the record reader stay pure, the checks see only
 * the record, and the live parts (faults, workloads, evidence) meet only through the case context.
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { repoRoot } from '../../harness/paths.ts';

/** A folder of harness/ ('.' for its top-level files, 'cli' for cli.ts) and the folders it may import. */
const BASE = ['.'];
const DEPS: Record<string, string[]> = {
  '.': BASE,
  case: [...BASE],
  oracle: [...BASE, 'case'],
  'oracle/checks': [...BASE, 'case', 'oracle'],
  vm: [...BASE],
  net: [...BASE],
  remote: [...BASE],
  host: [...BASE],
  kernel: [...BASE, 'host'],
  image: [...BASE, 'host', 'kernel'],
  cluster: [...BASE, 'case', 'vm', 'net', 'remote'],
  mirror: [...BASE, 'case', 'cluster', 'oracle', 'remote'],
  record: [...BASE, 'case', 'cluster', 'mirror', 'oracle'],
  checks: [...BASE, 'case', 'mirror', 'oracle', 'oracle/checks', 'record'],
  context: [...BASE, 'case', 'cluster', 'mirror'],
  faults: [...BASE, 'case', 'cluster', 'context', 'mirror', 'oracle', 'record'],
  workload: [...BASE, 'case', 'cluster', 'context', 'mirror', 'oracle', 'record', 'remote'],
  evidence: [...BASE, 'case', 'cluster', 'context', 'mirror', 'oracle', 'oracle/checks', 'record', 'remote'],
  runner: [...BASE, 'case', 'checks', 'cluster', 'context', 'evidence', 'faults', 'mirror', 'oracle', 'record', 'workload'],
  report: [...BASE, 'case', 'checks', 'oracle', 'record', 'runner'],
  bisect: [...BASE],
  mutation: [...BASE, 'case', 'image'],
  commands: ['*'],
  cli: ['*'],
};

const HARNESS = join(repoRoot, 'harness');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

function layerOf(file: string): string {
  const rel = relative(HARNESS, file);
  if (rel === 'cli.ts') return 'cli';
  const dir = dirname(rel);
  return dir === '.' ? '.' : dir;
}

/** Every relative import of every file, as "from-layer -> to-layer (file: import)" when DEPS does not allow it. */
function violations(imports: Array<{ file: string; target: string }>, deps: Record<string, string[]>): string[] {
  const out: string[] = [];
  for (const { file, target } of imports) {
    const [from, to] = [layerOf(file), layerOf(target)];
    if (from === to) continue;
    const allowed = deps[from];
    if (!allowed) out.push(`${relative(repoRoot, file)}: its folder ${from} is not in the layer table`);
    else if (!allowed.includes('*') && !allowed.includes(to)) out.push(`${from} -> ${to} (${relative(repoRoot, file)} imports ${relative(repoRoot, target)})`);
  }
  return out;
}

function importsOf(file: string): Array<{ file: string; target: string }> {
  return [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'"]*from '(\.\.?\/[^']+)'/gm)].map((m) => ({ file, target: resolve(dirname(file), m[1]!) }));
}

t.test('no import in harness/ crosses a layer the wrong way', async (t) => {
  const all = files(HARNESS).flatMap(importsOf);
  t.ok(all.length > 200, `${all.length} imports read`);
  t.same(violations(all, DEPS), []);
});

t.test('a planted wrong import is found: the oracle reaching for the cluster', async (t) => {
  const planted = [{ file: join(HARNESS, 'oracle', 'checks', 'x.ts'), target: join(HARNESS, 'cluster', 'cluster.ts') }];
  t.same(violations(planted, DEPS), ['oracle/checks -> cluster (harness/oracle/checks/x.ts imports harness/cluster/cluster.ts)']);
  const checksToLive = [{ file: join(HARNESS, 'checks', 'x.ts'), target: join(HARNESS, 'evidence', 'gather.ts') }];
  t.match(violations(checksToLive, DEPS), [/^checks -> evidence/]);
});

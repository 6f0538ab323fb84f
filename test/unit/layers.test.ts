/**
 * Which part of harness/ may import which, as Playwright keeps a DEPS.list per folder and checks it in lint.
 * Lower layers never import higher ones: the oracle and the record reader stay pure, the checks see only
 * the record, and the live parts (faults, workloads, evidence) meet only through the case context.
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { repoRoot } from '../../harness/base/paths.ts';

/**
 * The stages of harness/, lowest first, and what each may import: the tree reads as the pipeline. Inside
 * run/, the live parts (faults, workloads, evidence) meet only through the case context and never import
 * one another, as Jepsen keeps workload, fault, check and history apart.
 */
const DEPS: Record<string, string[]> = {
  base: [],
  case: ['base'],
  oracle: ['base', 'case'],
  stack: ['base', 'case'],
  guest: ['base', 'case', 'oracle', 'stack'],
  record: ['base', 'case', 'oracle', 'guest'],
  judge: ['base', 'case', 'oracle', 'guest', 'record'],
  coverage: ['base', 'stack', 'record'],
  'run/context': ['base', 'case', 'stack', 'guest', 'record'],
  'run/faults': ['base', 'case', 'oracle', 'guest', 'record', 'run/context'],
  'run/workload': ['base', 'case', 'oracle', 'guest', 'record', 'run/context'],
  'run/evidence': ['base', 'case', 'oracle', 'stack', 'guest', 'record', 'judge', 'run/context'],
  run: ['base', 'case', 'oracle', 'stack', 'guest', 'record', 'judge', 'coverage', 'run/context', 'run/faults', 'run/workload', 'run/evidence'],
  report: ['base', 'case', 'oracle', 'record', 'judge', 'coverage'],
  explore: ['base', 'case', 'oracle', 'judge', 'coverage'],
  commands: ['*'],
  cli: ['*'],
};

const HARNESS = join(repoRoot, 'harness');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** A file's stage: its top folder under harness/, or run/'s part for the live parts of a run. */
function layerOf(file: string): string {
  const rel = relative(HARNESS, file);
  if (rel === 'cli.ts') return 'cli';
  const [top, sub] = rel.split('/');
  return top === 'run' && sub !== undefined && ['context', 'faults', 'workload', 'evidence'].includes(sub) ? `run/${sub}` : top!;
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
  const planted = [{ file: join(HARNESS, 'oracle', 'checks', 'x.ts'), target: join(HARNESS, 'guest', 'cluster', 'cluster.ts') }];
  t.same(violations(planted, DEPS), ['oracle -> guest (harness/oracle/checks/x.ts imports harness/guest/cluster/cluster.ts)']);
  const judgeToLive = [{ file: join(HARNESS, 'judge', 'x.ts'), target: join(HARNESS, 'run', 'evidence', 'gather.ts') }];
  t.match(violations(judgeToLive, DEPS), [/^judge -> run\/evidence/]);
  const faultToWorkload = [{ file: join(HARNESS, 'run', 'faults', 'x.ts'), target: join(HARNESS, 'run', 'workload', 'run.ts') }];
  t.match(violations(faultToWorkload, DEPS), [/^run\/faults -> run\/workload/]);
});

/** The coverage-guided corpus: a scenario that reached a new line is kept, and mutations of it stay valid cases. */
import t from 'tap';
import { validateCase } from '../../../harness/case/load.ts';
import type { Coverage } from '../../../harness/coverage/coverage.ts';
import { Corpus } from '../../../harness/explore/corpus.ts';
import { drawScenario, mutateScenario } from '../../../harness/explore/draw.ts';
import { caseText } from '../../../harness/explore/scenario.ts';

const cov = (lines: Record<string, number>): Coverage => ({ files: { 'lvm2/daemons/cmirrord/functions.c': { lines, branches: {}, functions: {} } } });
const draw = (seed: number) => drawScenario({ seed, name: `explore-${seed}`, origin: 'drawn in a unit test', tokenMs: 3000 });

t.test('kept only when it reached a line no earlier scenario reached', async (t) => {
  const c = new Corpus();
  t.equal(c.offer(draw(1), cov({ 10: 1, 11: 0, 12: 5 })), 2);
  t.equal(c.offer(draw(2), cov({ 10: 3, 12: 1 })), 0, 'the same lines again');
  t.equal(c.offer(draw(3), cov({ 11: 1 })), 1, 'a line the first counted but never ran');
  t.same(c.kept.map((s) => s.name), ['explore-1', 'explore-3']);
  t.equal(c.lines, 3);
  t.equal(c.parent(0.7), undefined, 'half the draws are fresh');
  t.equal(c.parent(0.1)?.name, 'explore-1');
  t.equal(c.parent(0.4)?.name, 'explore-3');
  t.equal(new Corpus().parent(0.1), undefined, 'nothing kept, nothing to mutate');
});

t.test('a mutation changes one part, keeps the rest, and is a case the loader takes', async (t) => {
  let changed = 0;
  for (let seed = 0; seed < 300; seed++) {
    const parent = draw(seed);
    const m = mutateScenario(parent, seed + 1000, `m-${seed}`, 'a mutation', 3000);
    const v = validateCase(caseText(m), `m-${seed}.yaml`);
    if (!v.ok) t.fail(v.errors.join('\n'));
    if (caseText({ ...m, name: parent.name, origin: parent.origin, seed: parent.seed }) !== caseText(parent)) changed++;
    t.equal(m.logType, parent.logType, 'the log type stays');
    t.equal(mutateScenario(parent, seed + 1000, `m-${seed}`, 'a mutation', 3000).events.length, m.events.length, 'the same seed mutates the same way');
  }
  t.ok(changed > 250, `${changed} of 300 mutations changed the scenario`);
});

/** The shrinker on synthetic failures: no VM, only a predicate that says which scenarios still fail. */
import t from 'tap';
import { removals, shrink } from '../../../harness/explore/shrink.ts';

interface Toy {
  steps: string[];
  nodes: number;
}

/** Smaller toys, biggest cut first: fewer steps, then fewer nodes. */
const reductions = (s: Toy): Toy[] => [...removals(s.steps).map((steps) => ({ ...s, steps })), ...(s.nodes > 2 ? [{ ...s, nodes: s.nodes - 1 }] : [])];

t.test('removals: halves first, then quarters, down to single items, never a kept one', async (t) => {
  t.same(removals(['a', 'b', 'c', 'd']), [['c', 'd'], ['a', 'b'], ['b', 'c', 'd'], ['a', 'c', 'd'], ['a', 'b', 'd'], ['a', 'b', 'c']]);
  t.same(removals(['a']), [[]]);
  t.same(removals([]), []);
  t.same(removals(['create', 'x', 'check'], (e) => e !== 'x'), [['create', 'check']]);
});

t.test('shrinks to the failure-inducing steps and the fewest nodes that still fail', async (t) => {
  // Fails whenever the crash and the rejoin are both there on at least 3 nodes, whatever else runs.
  const fails = async (s: Toy) => s.steps.includes('crash') && s.steps.includes('rejoin') && s.nodes >= 3;
  const start = { steps: ['create', 'slow-leg', 'crash', 'suspend', 'reload', 'rejoin', 'wait', 'check'], nodes: 6 };
  const r = await shrink(start, { reductions, fails, tries: 1 });
  t.same(r.scenario, { steps: ['crash', 'rejoin'], nodes: 3 });
  t.equal(r.cutShort, false);
  t.ok(r.steps >= 4, `${r.steps} reductions kept`);
});

t.test('a reduction that fails only now and then is tried up to 3 times before it is given up', async (t) => {
  // Timing decides: without "noise" the bug shows only on every third run.
  let attempts = 0;
  const fails = async (s: Toy) => s.steps.includes('bug') && (s.steps.includes('noise') || ++attempts % 3 === 0);
  const r = await shrink({ steps: ['bug', 'noise'], nodes: 2 }, { reductions, fails, tries: 3 });
  t.same(r.scenario.steps, ['bug']);
  attempts = 0;
  const once = await shrink({ steps: ['bug', 'noise'], nodes: 2 }, { reductions, fails, tries: 2 });
  t.same(once.scenario.steps, ['bug', 'noise'], 'with 2 tries the cut never fails again and is not kept');
});

t.test('stops when the budget says so and returns the best so far', async (t) => {
  let runs = 0;
  const fails = async (s: Toy) => {
    runs++;
    return s.steps.includes('bug');
  };
  const r = await shrink({ steps: ['a', 'b', 'bug', 'c'], nodes: 2 }, { reductions, fails, stop: () => runs >= 1 });
  t.equal(r.cutShort, true);
  t.equal(r.runs, 1);
  t.same(r.scenario.steps, ['bug', 'c'], 'the one cut tried and kept stands');
});

t.test('the budget is looked at before every try of a cut, not only its first', async (t) => {
  let runs = 0;
  // The first cut never fails again: without the look between tries, its 3 runs would all be spent.
  const fails = async (s: Toy) => {
    runs++;
    return s.steps.length === 2;
  };
  const r = await shrink({ steps: ['a', 'b'], nodes: 2 }, { reductions, fails, tries: 3, stop: () => runs >= 1 });
  t.equal(r.cutShort, true);
  t.equal(r.runs, 1);
  t.same(r.scenario.steps, ['a', 'b']);
});

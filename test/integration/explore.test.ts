/**
 * A short explore end to end, through the CLI: two drawn scenarios on real clusters, each failure told apart,
 * and explore.json, the scenarios' case files and the report written. Seed 6 draws two cheap scenarios of
 * three nodes (the log server's log device slowed, and a crash while a write is held): on the stock stack
 * each passes or fails as a known bug (bug 1), never as a new finding.
 */
import './guard.ts';
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../harness/base/proc.ts';
import { validateCase } from '../../harness/case/load.ts';

t.setTimeout(15 * 60_000);

t.test('clogtest explore --scenarios 2 --seed 6 --shrink none', async (t) => {
  const r = await run('./clogtest', ['explore', '--scenarios', '2', '--seed', '6', '--shrink', 'none'], { allowFailure: true, timeoutMs: 12 * 60_000 });
  const output = { stdout: r.stdout.slice(-2000), stderr: r.stderr.slice(-6000) };
  t.equal(r.exitCode, 0, 'exits 0: no new finding, nothing inconclusive', output);
  t.match(r.stdout.trim().split('\n').at(-1), /^explore: 2 scenarios \(\d passed, \d failed, 0 inconclusive, 0 infra\), findings: 0 new, /, 'closing line', output);
  const file = /results: (\S+explore\.json)/.exec(r.stderr)?.[1];
  t.ok(file && existsSync(file), 'explore.json written', output);
  if (!file) return;
  const ex = JSON.parse(readFileSync(file, 'utf8'));
  t.equal(ex.seed, 6);
  t.equal(ex.scenarios.length, 2);
  for (const s of ex.scenarios) {
    t.ok(validateCase(readFileSync(s.file, 'utf8'), s.file).ok, `${s.name}: its case file is a valid case`);
    if (s.outcome === 'failed') t.same(s.failure.novelty === 'new', false, `${s.name}: failed as known bug ${s.failure.known}`);
    else t.equal(s.outcome, 'passed', `${s.name}: passed`);
  }
  for (const f of ex.failures) t.ok(f.known?.length, `failure ${f.slug} is a known bug's`);
  t.ok(existsSync(join(ex.runDir, 'report.html')), 'report.html written');
});

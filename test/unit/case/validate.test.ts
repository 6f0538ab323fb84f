import t from 'tap';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../../harness/base/paths.ts';
import { tempDir } from '../../temp-dir.ts';

const dir = tempDir(t, 'clogtest-validate-');
const good = join(dir, 'good.yaml');
const bad = join(dir, 'bad.yaml');
writeFileSync(good, 'name: good\nsteps:\n  - mirror: create\n  - wait: {sync: complete}\n');
writeFileSync(bad, 'name: bad\nsteps:\n  - mirror: create\n  - fault: crash\n    on: [7]\n');

function validate(...args: string[]) {
  const r = spawnSync(join(repoRoot, 'clogtest'), ['validate', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('a valid case prints ok and exits 0', async (t) => {
  const r = validate(good);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, `ok ${good}\n`);
});

t.test('an invalid case prints file:line:col and exits 2', async (t) => {
  const r = validate(good, bad);
  t.equal(r.code, 2);
  t.equal(r.stdout, `ok ${good}\n`);
  t.match(r.stderr, `${bad}:5:10: node 7 does not exist: topology has nodes 1..3\n`);
  t.match(r.stderr, /1 of 2 case files invalid/);
});

t.test('a directory stands for its yaml files; the shipped suite is valid', async (t) => {
  const r = validate(dir);
  t.equal(r.code, 2);
  const suite = validate(join(repoRoot, 'cases'));
  t.equal(suite.code, 0, suite.stderr);
  t.ok(suite.stdout.split('\n').filter((l) => l.startsWith('ok ')).length >= 16);
});

t.test('--expand prints the runner view with its seed', async (t) => {
  const r = validate('--expand', '--seed', '5', join(repoRoot, 'cases', 'random-schedule.yaml'));
  t.equal(r.code, 0, r.stderr);
  const expanded = JSON.parse(r.stdout.split('\n')[1]!);
  t.equal(expanded.seed, 5);
  t.equal(expanded.seedFrom, '--seed');
  t.notOk(expanded.steps.some((s: { kind: string }) => s.kind === 'schedule'));
});

t.test('usage errors exit 2', async (t) => {
  t.equal(validate().code, 2);
  t.equal(validate(join(dir, 'missing.yaml')).code, 2);
  const help = validate('--help');
  t.equal(help.code, 0);
  t.match(help.stdout, /usage: clogtest validate/);
});

/**
 * The smoke subset end to end, through the CLI as a user runs it: each case boots its own
 * cluster, and the run must exit 0 with the closing "N passed, N failed, N skipped" line,
 * write well-formed JUnit, and leave no QEMU behind.
 */
import './guard.ts';
import t, { type Test } from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from '../../harness/base/proc.ts';
import { loadCase } from '../../harness/case/load.ts';
import { tempDir } from '../temp-dir.ts';
import { renderedDom, screenshot } from '../browser.ts';

t.setTimeout(30 * 60_000);

/** Through harness/base/proc.ts, so the guard's kill on a tap timeout takes the CLI's process group with it. */
function clogtest(args: string[]) {
  return run('./clogtest', args, { allowFailure: true, timeoutMs: 25 * 60_000 });
}

/**
 * The smoke subset. The two known failures are real bugs of the stack (their YAML explains them) and
 * fail every time: each must come out as an expected failure (TAP todo, JUnit skipped) for an invariant
 * its YAML names, and the run exits 0. healthy-sync and node-crash-during-writes run together, as a
 * user would, and their run's report.html is opened in headless Chromium.
 */
const SMOKE = [
  {
    cases: ['healthy-sync', 'node-crash-during-writes'],
    line: /^1 passed, 0 failed, 1 skipped$/,
    junit: 'tests="2" failures="0" errors="0" skipped="1"',
    fails: { 'node-crash-during-writes': /violated: [^\n]*legs-converge/ } as Record<string, RegExp>,
    report: true,
  },
  // A writer stopped with writes in flight: its log must come whole (harness/guest/remote/ssh.ts stream).
  { cases: ['writers-stopped-in-flight'], line: /^1 passed, 0 failed, 0 skipped$/, junit: 'tests="1" failures="0" errors="0" skipped="0"', fails: {} as Record<string, RegExp>, report: false },
  { cases: ['daemon-kill-and-restart'], line: /^0 passed, 0 failed, 1 skipped$/, junit: 'tests="1" failures="0" errors="0" skipped="1"', fails: { 'daemon-kill-and-restart': /violated: [^\n]*no-hang/ } as Record<string, RegExp>, report: false },
];

/** The checks a case's check steps name. */
function listedChecks(name: string): string[] {
  return [...new Set(loadCase(`cases/${name}.yaml`).steps.flatMap((st) => (st.kind === 'check' ? st.checks : [])))];
}

/** One case's TAP subtest out of a run's stdout. */
function subtest(stdout: string, name: string): string {
  const from = stdout.indexOf(`# Subtest: ${name}`);
  const next = stdout.indexOf('# Subtest: ', from + 1);
  return from < 0 ? '' : stdout.slice(from, next < 0 ? undefined : next);
}

for (const { cases, line, junit: counts, fails, report } of SMOKE) {
  t.test(`clogtest run ${cases.map((c) => `cases/${c}.yaml`).join(' ')}`, async (t) => {
    const dir = tempDir(t, 'clogtest-smoke-', { keepOnFailure: true });
    const junit = join(dir, 'out.xml');
    const r = await clogtest(['run', ...cases.map((c) => `cases/${c}.yaml`), '--junit', junit]);
    const lines = r.stdout.trim().split('\n');
    // The run's output goes into the diagnostics, shown only when the assertion fails.
    const output = { stdout: r.stdout.slice(-4000), stderr: r.stderr.slice(-4000) };
    t.equal(r.exitCode, 0, 'exits 0', output);
    t.match(lines.at(-1), line, 'closing line', output);
    t.match(r.stdout, /^TAP version 14/);
    for (const name of cases) {
      const own = subtest(r.stdout, name);
      const fail = fails[name];
      if (fail) t.match(own, new RegExp(`not ok \\d+ - ${fail.source}[^\\n]*# TODO known failure`), `${name} fails as the YAML says, as a TODO`, output);
      // Every check a passing case lists judged something, and says how much; a check it does not list
      // (invalid-tables-refused, with no malformed table loaded) may judge nothing.
      if (!fail) {
        t.notMatch(own, /INCONCLUSIVE/, `${name}: nothing inconclusive`, output);
        const silent = listedChecks(name).filter((c) => new RegExp(`- ${c}(?: at [^:]+)?: [^\\n]*judged nothing`).test(own));
        t.same(silent, [], `${name}: no listed check judged nothing`, output);
      }
      if (!fail && listedChecks(name).includes('dirty-before-write')) t.match(own, /ok \d+ - dirty-before-write: ok \[judged [1-9]\d* in-flight writes/, `${name}: writes were judged in flight`, output);
    }
    const xml = readFileSync(junit, 'utf8');
    t.match(xml, new RegExp(`<testsuites ${counts}`));
    for (const name of cases) t.match(xml, new RegExp(`<testcase classname="clogtest" name="${name}"`));
    const { stdout: qemus } = await run('pgrep', ['-af', 'qemu-system'], { allowFailure: true });
    t.notMatch(qemus, /runs\/\d{8}-\d{6}Z\/[^/]+\/\d{8}-\d{6}Z-clog\//, 'no QEMU of this run is left');
    if (report) await checkReport(t, r.stderr, output);
  });
}

/** The run's report.html, as Chromium renders it: both cases, the known failure's finding, node 3's crash span. */
async function checkReport(t: Test, stderr: string, output: object): Promise<void> {
  const file = /report: (\S+report\.html)$/m.exec(stderr)?.[1];
  if (!t.ok(file && existsSync(file), 'the run wrote report.html', output) || !file) return;
  const { dom, ms } = await renderedDom(file);
  t.comment(`report.html: page ready ${/data-render-ms="(\d+)"/.exec(dom)?.[1] ?? '?'} ms after navigation, ${ms} ms with chromium's start`);
  t.match(dom, /data-rendered="yes"/, 'its script ran to the end');
  t.notMatch(dom, /data-errors=/, 'the page logged no errors');
  t.match(dom, /<tr data-verdict="passed"[^>]*><td><span>healthy-sync</, 'the passing case is in the index');
  t.match(dom, /<tr data-verdict="known failure"[^>]*><td><a href="#case-node-crash-during-writes">node-crash-during-writes</, 'the known failure is in the index');
  t.match(dom, /<li class="finding" data-check="legs-converge"[^>]*>.*region \d+, block \d+, legs: clog0\/leg0 [^<]*<\/span>/s, 'the finding names its region, block and legs');
  t.match(dom, /<div class="hex"><pre>clog0\/leg0\n0000 /, 'with the block on each leg side by side');
  t.match(dom, /data-lane="node3"><div class="lane-name"[^>]*>node3<\/div><div class="lane-track"[^>]*>.*?data-kind="crash"/s, 'node 3\'s lane has the crash span');
  const png = join(dirname(file), 'report.png');
  await screenshot(file, png);
  t.ok(existsSync(png), `screenshot kept: ${png}`);
}

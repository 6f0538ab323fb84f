import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOPOLOGY_DEFAULTS } from '../../../harness/case/schema.ts';
import { renderReport } from '../../../harness/report/html.ts';
import { readReportData, SUMMARY_FILE } from '../../../harness/report/report-data.ts';
import { encodeBlock } from '../../../harness/oracle/block-header.ts';
import { tempDir } from '../../temp-dir.ts';
import { run } from '../../../harness/base/proc.ts';

const T0 = Date.parse('2026-11-30T00:00:00.000Z');
const line = (ms: number, type: string, fields: Record<string, unknown>) => JSON.stringify({ t: new Date(T0 + ms).toISOString(), ms, type, ...fields });
const status = (synced: number) => `clog0: 0 131072 mirror 2 253:0 253:1 ${synced}/128 1 AA 3 clustered-disk 253:2 A`;

/** A kept case as a run leaves it: node 3 crashes at 10 s and comes back at 20 s; legs differ at block 2672. */
function keptCase(runDir: string): string {
  const dir = join(runDir, 'node-crash-during-writes');
  const cluster = join(dir, '20261130-000000Z-clog');
  mkdirSync(join(cluster, 'disks'), { recursive: true });
  mkdirSync(join(dir, 'writes'));
  writeFileSync(join(cluster, 'cluster.json'), '{}');
  const offset = 2672 * 4096;
  const leg0 = Buffer.alloc(offset + 4096);
  encodeBlock({ node: 3, seq: 1, offset, runId: 7 }, 4096).copy(leg0, offset);
  writeFileSync(join(cluster, 'disks', 'leg0.img'), leg0);
  writeFileSync(join(cluster, 'disks', 'leg1.img'), Buffer.alloc(offset + 4096));
  const c = { file: 'cases/node-crash-during-writes.yaml', name: 'node-crash-during-writes', description: 'd', tags: ['smoke', 'crash'], topology: TOPOLOGY_DEFAULTS, knownFailure: { bugs: [1] }, steps: [] };
  const history = [
    line(0, 'info', { what: 'case start', case: c, seed: 5, runId: 7 }),
    line(100, 'fault', { fault: 'heal-all', nodes: [], event: 'done' }),
    line(1000, 'step', { step: 1, kind: 'mirror', what: 'mirror create-in-sync', event: 'start' }),
    line(3000, 'step', { step: 1, kind: 'mirror', what: 'mirror create-in-sync', event: 'done', durationMs: 2000 }),
    // Before the mirror exists its status says so, which is no mirror status at all.
    line(2000, 'poll', { node: 2, round: 0, daemon: true, groups: {}, logWrites: {}, status: 'No devices found\n' }),
    line(4000, 'poll', { node: 3, round: 1, daemon: true, groups: { 'clogtest-7-m0': [1, 2, 3] }, logWrites: {}, status: status(128) }),
    line(5000, 'fault', { fault: 'slow-leg', nodes: [3], event: 'start', params: { kind: 'slow-leg', leg: 1, delayMs: 3000 } }),
    line(8000, 'sample', { sample: 1, mirror: 0, freezeNs: {}, log: null, legs: [], trigger: 'held write on node 3' }),
    line(10_000, 'fault', { fault: 'crash', nodes: [3], event: 'start' }),
    line(12_000, 'poll', { node: 1, round: 2, daemon: true, groups: { 'clogtest-7-m0': [1, 2] }, logWrites: {}, status: status(127) }),
    line(20_000, 'fault', { fault: 'restart-node', nodes: [3], event: 'start' }),
    line(30_000, 'hang', { what: 'step 4: timed out' }),
    line(31_000, 'evidence', { point: 'end', live: [1, 2, 3], down: [], writerLogBytes: {} }),
    line(32_000, 'check', { check: 'legs-converge', point: 'end', valid: false, detail: 'x', judged: [], findings: 1 }),
    line(33_000, 'info', { what: 'case end', status: 'failed', outcome: 'known failure', durationMs: 33_000, known: { bugs: [1], explained: 1, unexplained: 0 } }),
  ];
  writeFileSync(join(dir, 'history.jsonl'), `${history.join('\n')}\n`);
  const ns = (ms: number) => (T0 + ms) * 1e6;
  writeFileSync(
    join(dir, 'writes', 'writes-node3-w0.jsonl'),
    [
      { op: 'write-start', t: ns(6000), run: 7, node: 3, seq: 1, block: 2672, offset },
      { op: 'write', t: ns(6250), start: ns(6000), run: 7, node: 3, seq: 1, block: 2672, offset },
      { op: 'read', t: ns(7000), start: ns(6900), run: 7, node: 3, block: 5, offset: 20480, kind: 'empty', found: null },
    ]
      .map((e) => JSON.stringify(e))
      .join('\n') + '\n',
  );
  const finding = { check: 'legs-converge', point: 'end', invariant: 'legs-converge', kind: 'legs-differ', region: 20, block: 2672, offset, legs: ['clog0/leg0 node3 seq 1', 'clog0/leg1 empty'], message: 'legs differ at block 2672' };
  writeFileSync(join(dir, 'findings.json'), JSON.stringify([finding]));
  return dir;
}

t.test('a kept case becomes lanes, series and findings on one time axis', async (t) => {
  const runDir = tempDir(t, 'clogtest-report-');
  keptCase(runDir);
  const data = readReportData(runDir, new Date(T0));
  t.same(data.rows.map((r) => [r.name, r.verdict, r.failedChecks]), [['node-crash-during-writes', 'known failure', ['legs-converge']]]);
  const c = data.cases[0]!;
  t.same(c.lanes, ['steps', 'node1', 'node2', 'node3']);
  t.same(
    c.spans.filter((s) => s.lane === 'node3').map((s) => [s.kind, s.from, s.to]),
    [['crash', 10, 20], ['slow-leg', 5, 33]],
    'the crash lasts until restart-node; the slow leg, never restored, until the end',
  );
  t.same(c.spans.find((s) => s.lane === 'steps'), { lane: 'steps', kind: 'mirror', label: 'mirror create-in-sync', from: 1, to: 3 });
  t.same(c.marks.filter((m) => m.kind === 'membership').map((m) => [m.lane, m.at]), [['node2', 2], ['node3', 4], ['node1', 12]]);
  t.match(c.marks.find((m) => m.lane === 'node3' && m.kind === 'membership'), { label: 'members 7-m0: 1,2,3 (server 1)' });
  t.same(
    c.marks.filter((m) => m.kind === 'health').map((m) => [m.lane, m.label]),
    [['node2', 'no mirror'], ['node3', 'clog0 legs AA, log A'], ['node1', 'clog0 legs AA, log A']],
  );
  t.ok(c.marks.some((m) => m.kind === 'hang' && m.at === 30) && c.marks.some((m) => m.kind === 'sample' && m.at === 8));
  t.same(c.series[2]!.writes, [[6.25, 250]], 'ack time and latency of node 3\'s write');
  t.same(c.series[2]!.reads, [[7, 100]]);
  t.same([c.series[2]!.sync, c.series[0]!.sync], [[[4, 128]], [[12, 127]]]);
  const f = c.findings[0]!;
  t.match(f, { check: 'legs-converge', region: 20, block: 2672, at: 32, legs: ['clog0/leg0 node3 seq 1', 'clog0/leg1 empty'] });
  t.same(f.writes, [{ node: 3, seq: 1, issued: 6, acked: 6.25 }], "the block's entries in the writers' logs");
  t.same(f.hex!.map((h) => h.leg), ['clog0/leg0', 'clog0/leg1']);
  t.match(f.hex![0]!.lines[0], /^0000  43 4c 4f 47/, 'leg 0 holds the stamped block ("CLOG")');
  t.match(f.hex![1]!.lines[0], /^0000  00 00 00 00/);
  t.ok(c.artifacts.some((a) => a.path === 'node-crash-during-writes/findings.json'), 'artifacts are relative to the run directory');
});

t.test('summary.json lists the cases whose directories are gone; the page needs no network', async (t) => {
  const runDir = tempDir(t, 'clogtest-report-');
  const dir = keptCase(runDir);
  const row = { file: 'cases/x.yaml', iteration: 1, seed: 9, durationMs: 1000, message: null, tags: ['healthy'], verdicts: [] };
  const summary = {
    runDir,
    passed: 1,
    failed: 0,
    skipped: 1,
    cases: [
      { ...row, name: 'healthy-sync', status: 'passed', outcome: 'passed', known: null, dir: join(runDir, 'healthy-sync'), replay: './clogtest run --seed 9 cases/healthy-sync.yaml' },
      {
        ...row,
        name: 'node-crash-during-writes',
        status: 'failed',
        outcome: 'known failure',
        known: { bugs: [1], intermittent: false, description: 'bug 1 (...)', hit: 'bug 1 (...)', explained: [{ bug: 1, check: 'legs-converge', point: 'end', kind: 'legs-differ', message: 'm' }], unexplained: [] },
        dir,
        verdicts: [{ check: 'legs-converge', valid: false }],
      },
    ],
  };
  writeFileSync(join(runDir, SUMMARY_FILE), JSON.stringify(summary));
  const data = readReportData(runDir);
  t.same(data.rows.map((r) => [r.name, r.verdict, r.dir]), [['healthy-sync', 'passed', null], ['node-crash-during-writes', 'known failure', 'node-crash-during-writes']]);
  t.equal(data.cases.length, 1, 'only the kept case has a timeline');
  const html = renderReport(data);
  t.notMatch(html, /<script[^>]+src=|<link[^>]+href=|https?:\/\/[^"'\s]*\.(js|css)/, 'every script and style is inline');
  t.match(html, /uPlot/);
  t.notMatch(html.slice(html.indexOf('id="report-data"'), html.indexOf('</script>', html.indexOf('id="report-data"'))), /<\//, 'the data cannot close its script element');
});

t.test('a kept case is listed with the outcome its run recorded; one without an end did not finish', async (t) => {
  const runDir = tempDir(t, 'clogtest-report-');
  keptCase(runDir);
  const [row] = readReportData(runDir).rows;
  t.match(row, { verdict: 'known failure', knownFailure: /^bug 1 \(/, explained: 1 });
});

t.test('clogtest report RUN_DIR writes the page from the directory alone; a directory that is no run is an input error', async (t) => {
  const runDir = tempDir(t, 'clogtest-report-');
  keptCase(runDir);
  const ok = await run('./clogtest', ['report', runDir], { allowFailure: true, timeoutMs: 60_000 });
  t.equal(ok.exitCode, 0, ok.stderr);
  t.match(readFileSync(join(runDir, 'report.html'), 'utf8'), /id="report-data">\{"runDir"/);
  const empty = tempDir(t, 'clogtest-report-empty-');
  const bad = await run('./clogtest', ['report', empty], { allowFailure: true, timeoutMs: 60_000 });
  t.equal(bad.exitCode, 2);
  t.match(bad.stderr, /holds neither summary\.json nor a case directory/);
});

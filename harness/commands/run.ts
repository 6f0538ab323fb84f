import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { loadCase } from '../case/load.ts';
import { resolveSeed } from '../case/schedule.ts';
import { filterCases, findCaseFiles, parseShard, repeat, shard } from '../case/select.ts';
import { EXIT, InputError, internalErrorText } from '../base/errors.ts';
import { runsRoot } from '../base/paths.ts';
import { progress } from '../base/progress.ts';
import { caseTitle, jsonSummary, junitXml, summaryLine, tally } from '../report/junit.ts';
import { medianOverheadMs } from '../record/phases.ts';
import { writeReport } from '../report/html.ts';
import { SUMMARY_FILE } from '../report/report-data.ts';
import { verdictLine } from '../judge/index.ts';
import { runCase, type CaseResult } from '../run/run-case.ts';
import { failsRun } from '../case/outcome.ts';
import { defaultJobs, inPool } from '../run/jobs.ts';
import { stacksNamed } from '../stack/stacks.ts';
import { defineCommand, intOption } from './command.ts';
import { stackOptionHelp } from './kernel.ts';
import { caseClusterOptions, caseOutputOptions, clusterOptions, clusterOptionsHelp, coverageHelp, coverageOption, nodesOverride, type CaseClusterOptions } from './cluster-options.ts';
import { coverageFigures, finishRunCoverage } from '../coverage/record.ts';

function stamp(d = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '').replace('T', '-');
}

export default defineCommand({
  name: 'run',
  summary: 'run test cases, each on a fresh cluster, and report TAP (and JUnit / JSON)',
  help: `usage: clogtest run [OPTIONS] [CASE.yaml | DIR ...]   (default: cases/)

Each case boots its own cluster, runs its steps, then every check; it is one TAP subtest
on stdout. Each case leaves runs/<run-id>/<case>/ (history.jsonl, findings.json, the
cluster's directory with consoles and guest logs, dmsetup status, writer logs), removed
when the case passes unless --keep. The run ends by writing runs/<run-id>/summary.json and
report.html (every case, and for each kept one its timeline; \`clogtest report\` writes it
again). The last line is "N passed, N failed, N skipped".
Each check's TAP line says how much it judged. A check the case lists that judged nothing
(or could not judge) makes the case INCONCLUSIVE, a failure: a silent pass is no pass.
A known-failure case whose checks fail counts as skipped (TAP todo); one that passes is
reported as UNEXPECTEDLY PASSED (as passed when its known failure is intermittent: true); one
that cannot be carried out is an infrastructure error.

Options:
  --tag TAG                only cases with this tag; "!TAG" excludes (repeatable)
  --grep RE                only cases whose name or file matches RE
  --seed N                 seed for every case (replays a run); default: the case's, else drawn
  --repeat N               run each case N times in a row
  --shard I/N              run only shard I of N (deterministic by file path)
  --keep                   keep the case directory of passing cases too
  --junit FILE             write JUnit XML
  --json FILE              write a JSON summary
  --jobs N                 run N cases at once, each on its own cluster, hub and ports
                           (default: a host core and RAM for every guest, at least 1; TAP,
                           JUnit and JSON keep the cases' order)
  --list                   print the cases the options select, one "file name" a line, and
                           boot nothing (to check a --shard split or a --tag filter)
  --stack A,B | all        run every case on each stack named (or on every stack), side by side:
                           TAP subtests and case directories named case@stack, JUnit classnames
                           clogtest.STACK; every stack is built before the first cluster boots
                           (default: the first stack, debian-12; \`clogtest stacks\` lists them)
${coverageHelp}
                           (one stack at a time: stacks differ in their sources)
${clusterOptionsHelp.replace(`${stackOptionHelp}\n`, '')}
  (--nodes overrides every case's topology.nodes)

Exit 0 when every case passed (or failed as known), 1 when a check failed or a case was inconclusive,
3 when a case could not be carried out (infrastructure), 2 for bad cases or options.`,
  allowPositionals: true,
  options: {
    ...clusterOptions,
    ...caseOutputOptions,
    ...coverageOption,
    tag: { type: 'string', multiple: true },
    grep: { type: 'string' },
    seed: { type: 'string' },
    repeat: { type: 'string' },
    shard: { type: 'string' },
    junit: { type: 'string' },
    jobs: { type: 'string' },
  },
  async run(values, positionals) {
    // Every case is validated before anything boots, so a typo costs seconds, not a cluster.
    const nodes = nodesOverride(values.nodes);
    let cases = findCaseFiles(positionals.length ? positionals : ['cases']).map((f) => loadCase(f, { nodes }));
    cases = filterCases(cases, { tags: values.tag, grep: values.grep });
    if (values.shard) {
      const { index, count } = parseShard(values.shard);
      cases = shard(cases, index, count);
    }
    const cliSeed = values.seed === undefined ? undefined : intOption('seed', values.seed, 0, 0, 2 ** 32 - 1);
    // With --stack, every case runs on every stack named, side by side (case@stack); without, on the default.
    const stacks = values.stack === undefined ? [undefined] : stacksNamed(values.stack).map((s) => s.name);
    if (values.coverage && stacks.length > 1) throw new InputError(`--coverage runs one stack at a time (their sources differ); --stack ${values.stack} names ${stacks.length}`);
    const planned = repeat(cases, intOption('repeat', values.repeat, 1, 1, 1000)).flatMap((p) => stacks.map((stack) => ({ ...p, stack })));
    const titleOf = (p: (typeof planned)[number]) => caseTitle({ name: p.case.name, iteration: p.iteration, stack: p.stack });
    const jobs = values.jobs === undefined ? undefined : intOption('jobs', values.jobs, 1, 1, 64);
    if (values.list) {
      if (jobs !== undefined) progress(`--jobs ${jobs}: ${planned.length} case run(s), at most ${Math.min(jobs, planned.length)} at once`);
      for (const p of planned) process.stdout.write(`${p.case.file} ${titleOf(p)}\n`);
      return EXIT.ok;
    }
    // Every stack's kernel and image before any cluster boots: a build that fails costs no cluster.
    const clusters = new Map<string | undefined, CaseClusterOptions>();
    for (const stack of stacks) clusters.set(stack, await caseClusterOptions({ ...values, stack }));
    const cluster = clusters.get(stacks[0])!;
    const runDir = join(runsRoot(), stamp());
    mkdirSync(runDir, { recursive: true });
    const biggest = Math.max(...planned.map((p) => p.case.topology.nodes));
    const chosen = jobs === undefined ? defaultJobs({ cores: cpus().length, memoryBytes: totalmem() }, biggest, cluster.memoryMb ?? 768) : { jobs, why: 'asked for' };
    progress(`run ${runDir}: ${planned.length} case run(s), ${chosen.jobs} at once (${chosen.why})`);
    const results: CaseResult[] = [];
    // With several at once, each progress line says whose it is.
    const sayFor = (name: string) => (chosen.jobs > 1 ? (line: string) => progress(`[${name}] ${line}`) : progress);
    const seeds = planned.map((p) => resolveSeed(p.case.seed, cliSeed));
    const running = inPool(planned, chosen.jobs, (p, i, release) =>
      runCase(p.case, {
        released: release,
        runDir,
        ...(p.stack ? { stack: p.stack } : {}),
        seed: seeds[i]!.seed,
        iteration: p.iteration,
        cluster: clusters.get(p.stack)!,
        keep: values.keep ?? false,
        fixes: values.fixes ?? false,
       
        say: sayFor(titleOf(p)),
      }),
    );
    // Loaded here, not at the top: importing tap starts a TAP root test with a 30 s
    // timeout in whatever process imports it, which would kill every other command.
    const { default: t } = await import('tap');
    // Cases keep their own deadlines per step; tap's 30 s default would cut a cluster boot short.
    t.setTimeout(0);
    for (const [i, p] of planned.entries()) {
      const { seed, from } = seeds[i]!;
      await t.test(titleOf(p), { timeout: 0 }, async (tt) => {
        tt.comment(`seed ${seed} (${from}); replay with --seed ${seed}`);
        const r = await running[i]!;
        results.push(r);
        for (const v of r.verdicts) {
          if (v.valid === true && !v.inconclusive) tt.pass(verdictLine(v));
          else if (v.valid === 'not-applicable' || (v.valid === 'unknown' && !v.inconclusive)) tt.pass(v.check, { skip: verdictLine(v) });
        }
        // The TAP line says what failed in a sentence; the findings and where to look follow as comments.
        const [head, ...rest] = (r.message ?? '').split('\n');
        if (r.status !== 'passed') for (const line of rest) tt.comment(line);
        const secs = `${(r.durationMs / 1000).toFixed(1)}s`;
        const known = r.known?.description;
        switch (r.outcome) {
          case 'known failure':
            tt.comment(`every finding (${r.known!.explained.length}) is one of the known bugs': ${r.known!.hit}`);
            tt.fail(head || 'a check failed', { todo: `known failure: ${r.known!.hit}` });
            break;
          case 'failed':
            tt.fail(head || 'a check failed');
            break;
          case 'inconclusive':
            tt.fail(head || 'inconclusive');
            break;
          case 'infra':
            tt.fail(head || 'infrastructure error');
            break;
          case 'known failure not hit':
            progress(`${r.name} passed: its intermittent known failure was not hit this time`);
            tt.pass(`passed in ${secs}; intermittent known failure not hit (${known})`);
            break;
          case 'unexpectedly passed':
            tt.comment(`!!! UNEXPECTEDLY PASSED: ${r.name} is marked known-failure (${known}) but every check passed`);
            progress(`!!! ${r.name} UNEXPECTEDLY PASSED (known failure: ${known})`);
            tt.pass('UNEXPECTEDLY PASSED');
            break;
          case 'passed':
            tt.pass(`passed in ${secs}`);
        }
      });
    }
    t.end();
    if (values.junit) writeFileSync(values.junit, junitXml(results));
    const replayArgs = [...(values.fixes ? ['--fixes'] : []), ...(values.coverage ? ['--coverage'] : []), ...(values.nodes !== undefined ? ['--nodes', values.nodes] : [])];
    const coverage = cluster.coverage ? finishRunCoverage(runDir, results.map((r) => basename(r.dir)), cluster.coverage, progress) : undefined;
    const summary = jsonSummary(runDir, results, replayArgs, coverage ? coverageFigures(coverage.files) : undefined);
    if (values.json) writeFileSync(values.json, summary);
    // Passing cases remove their directories (unless --keep); the summary keeps them in the report.
    writeFileSync(join(runDir, SUMMARY_FILE), summary);
    // A report that cannot be written is the harness's bug; the verdicts above and the closing line still stand.
    let reportError: unknown;
    try {
      progress(`results: ${runDir}; report: ${writeReport(runDir)}`);
    } catch (err) {
      reportError = err;
      progress(`results: ${runDir}; report.html NOT written (internal error, exit 3): ${internalErrorText(err)}`);
    }
    const overhead = medianOverheadMs(results.flatMap((r) => (r.phases ? [r.phases] : [])));
    if (overhead !== undefined) progress(`median overhead per case (wall time minus the cases' own after:s, sleeps and durations): ${(overhead / 1000).toFixed(1)}s`);
    const counts = tally(results.map((r) => r.outcome));
    process.stdout.write(`${summaryLine(counts)}\n`);
    if (results.some((r) => failsRun(r.outcome))) return EXIT.checkFailed;
    if (results.some((r) => r.outcome === 'infra') || reportError !== undefined) return EXIT.infra;
    return EXIT.ok;
  },
});

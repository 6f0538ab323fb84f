import { existsSync, mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { loadCase } from '../case/load.ts';
import { resolveSeed } from '../case/schedule.ts';
import type { Case } from '../case/schema.ts';
import { ClogError, errorMessage, InputError, MissingToolError } from '../base/errors.ts';
import { runsRoot, timestamp } from '../base/paths.ts';
import { progress } from '../base/progress.ts';
import { runCase } from '../run/run-case.ts';
import { BISECT_EXIT, bisectVerdict, type RunOutcome } from '../report/bisect-verdict.ts';
import { defineCommand, intOption } from './command.ts';
import { caseClusterOptions, clusterOptions, clusterOptionsHelp, coverageHelp, coverageOption, nodesOverride } from './cluster-options.ts';
import { finishRunCoverage } from '../coverage/record.ts';


/** Without --kernel-tree or --daemon-tree, the current directory is the tree being bisected. */
function treeFromCwd(cwd: string): { 'kernel-tree'?: string; 'daemon-tree'?: string } {
  if (existsSync(join(cwd, 'Kconfig')) && existsSync(join(cwd, 'drivers', 'md'))) return { 'kernel-tree': cwd };
  if (existsSync(join(cwd, 'daemons', 'cmirrord'))) return { 'daemon-tree': cwd };
  throw new InputError(`${cwd} is neither a kernel tree nor an lvm2 tree: give --kernel-tree or --daemon-tree`);
}

function firstLine(err: unknown): string {
  return errorMessage(err).split('\n')[0]!;
}

export default defineCommand({
  name: 'bisect-run',
  summary: 'test one revision for `git bisect run`: build, run the cases, exit 0 / 1 / 125',
  help: `usage: clogtest bisect-run [--kernel-tree PATH] [--daemon-tree PATH] [--repeat N] CASE.yaml...

Made to be called by \`git bisect run\` from inside a kernel or lvm2 git tree. Builds the tree
at HEAD out of tree (the tree stays clean; kernel-patches/series and the config fragments
apply as always; ccache keeps rebuilds short), builds or reuses the image, runs each case
N times, prints each run's verdict and why, and a last line such as
"bad: 2/3 runs failed clean-implies-equal".

Without --kernel-tree or --daemon-tree, the current directory is taken as a kernel tree
(it has Kconfig and drivers/md) or an lvm2 tree (it has daemons/cmirrord).

Options:
  --repeat N               runs per case (default 3): an intermittent bug needs several
  --seed N                 seed for every run (default: the case's, else drawn per run)
${coverageHelp}
${clusterOptionsHelp}

Exit codes (what git bisect run expects):
  0    every run passed: good
  1    a check failed in at least one run: bad (a real failure)
  125  this revision cannot be tested: the build failed, a patch of the series does not
       apply, a guest did not boot or answer, or another infrastructure error; git bisect
       skips it
  128  bad options, a bad case file or a missing tool: no revision can fix that, so
       git bisect run stops`,
  allowPositionals: true,
  usageExitCode: BISECT_EXIT.abort,
  options: {
    ...clusterOptions,
    ...coverageOption,
    repeat: { type: 'string' },
    seed: { type: 'string' },
  },
  async run(values, positionals) {
    let cases: Case[];
    let repeat: number;
    let cliSeed: number | undefined;
    try {
      if (!positionals.length) throw new InputError('bisect-run: name at least one CASE.yaml');
      const nodes = nodesOverride(values.nodes);
      cases = positionals.map((f) => loadCase(f, { nodes }));
      repeat = intOption('repeat', values.repeat, 3, 1, 100);
      cliSeed = values.seed === undefined ? undefined : intOption('seed', values.seed, 0, 0, 2 ** 32 - 1);
      if (!values['kernel-tree'] && !values['daemon-tree'] && !values['kernel-image']) Object.assign(values, treeFromCwd(process.cwd()));
      for (const opt of ['kernel-tree', 'daemon-tree'] as const) {
        const v = values[opt];
        if (v !== undefined) values[opt] = resolve(v);
      }
    } catch (err) {
      process.stderr.write(`clogtest bisect-run: ${firstLine(err)}\n`);
      return BISECT_EXIT.abort;
    }

    let cluster;
    try {
      cluster = await caseClusterOptions(values);
    } catch (err) {
      if (err instanceof MissingToolError) {
        process.stderr.write(`clogtest bisect-run: ${err.message}\n`);
        return BISECT_EXIT.abort;
      }
      // A build that fails or a series patch that no longer applies belongs to this revision.
      const text = err instanceof ClogError ? err.message : String(err);
      process.stderr.write(`clogtest bisect-run: this revision cannot be built:\n${text}\n`);
      process.stdout.write(`skip: build failed: ${firstLine(err)}\n`);
      return BISECT_EXIT.skip;
    }

    const runDir = join(runsRoot(), `bisect-${timestamp()}`);
    mkdirSync(runDir, { recursive: true });
    const outcomes: RunOutcome[] = [];
    const ran: string[] = [];
    for (let i = 1; i <= repeat; i++) {
      for (const c of cases) {
        const { seed } = resolveSeed(c.seed, cliSeed);
        let r;
        try {
          r = await runCase(c, { runDir, seed, iteration: i, cluster, keep: false, fixes: values.fixes ?? false, say: progress });
          ran.push(basename(r.dir));
        } catch (err) {
          // Exit 3 would read as "bad" to git bisect; a harness crash says nothing about the revision.
          outcomes.push({ case: c.name, status: 'infra', failedChecks: [], why: `harness error: ${firstLine(err)}` });
          process.stdout.write(`run ${i}/${repeat} ${c.name} (seed ${seed}): UNTESTABLE: harness error: ${firstLine(err)}\n`);
          continue;
        }
        const failedChecks = r.verdicts.filter((v) => v.valid === false).map((v) => v.check);
        const why = r.message?.split('\n')[0];
        outcomes.push({ case: c.name, status: r.status, failedChecks, ...(why ? { why } : {}) });
        const verdict = r.status === 'passed' ? 'passed' : r.status === 'failed' ? `FAILED ${failedChecks.join(', ')}` : r.status === 'inconclusive' ? 'UNTESTABLE (inconclusive)' : 'UNTESTABLE';
        process.stdout.write(`run ${i}/${repeat} ${c.name} (seed ${seed}): ${verdict}${why && r.status !== 'passed' ? `: ${why}` : ''}\n`);
      }
    }
    if (cluster.coverage) finishRunCoverage(runDir, ran, cluster.coverage, progress);
    const { exit, summary } = bisectVerdict(outcomes);
    process.stdout.write(`${summary}\n`);
    progress(`runs kept under ${runDir} where they did not pass`);
    return exit;
  },
});

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { randomInt } from 'node:crypto';
import { validateCase } from '../case/load.ts';
import { caseTriggers, KNOWN_BUGS, knownFailureInForce } from '../case/known-bugs.ts';
import { parseDuration } from '../case/units.ts';
import { seededRandom } from '../base/random.ts';
import { EXIT, InputError } from '../base/errors.ts';
import { runsRoot, timestamp } from '../base/paths.ts';
import { progress, seconds } from '../base/progress.ts';
import { CaseRecord } from '../record/read.ts';
import { runCase, type CaseResult } from '../run/run-case.ts';
import { jsonSummary } from '../report/junit.ts';
import { EXPLORE_FILE, SUMMARY_FILE } from '../report/report-data.ts';
import { writeReport } from '../report/html.ts';
import { drawScenario, mutateScenario, scenarioReductions } from '../explore/draw.ts';
import { DEFAULT_TOKEN_MS } from '../guest/cluster/corosync-conf.ts';
import { Corpus } from '../explore/corpus.ts';
import { caseSteps, caseText, type Scenario } from '../explore/scenario.ts';
import { classifyFailure, type Classification } from '../explore/signature.ts';
import { FindingsLog, sameFailure, type FoundFailure } from '../explore/findings.ts';
import { shrink } from '../explore/shrink.ts';
import { coverageFigures, finishRunCoverage, readCaseCoverage } from '../coverage/record.ts';
import { defineCommand, FIXES_HELP, intOption } from './command.ts';
import { caseClusterOptions, clusterOptions, clusterOptionsHelp, coverageHelp, coverageOption, type CaseClusterOptions } from './cluster-options.ts';

const SHRINK_MODES = ['new', 'all', 'none'] as const;
type ShrinkMode = (typeof SHRINK_MODES)[number];

export default defineCommand({
  name: 'explore',
  summary: 'draw scenarios from the whole fault vocabulary, run them, tell findings apart, shrink the new ones',
  help: `usage: clogtest explore [--budget 1h] [--seed S] [--scenarios N] [--shrink new|all|none] [OPTIONS]

Draws scenarios one after another and runs each as a case on a fresh cluster until the budget is
spent (a scenario started keeps running to its end). A scenario is a plain case: 2-8 nodes, 2 or 3
legs, leg and region sizes, disk or core log, writers with a drawn depth and regions, and one to
three faults or mirror operations (crash, reset, pause, kill-daemon, kill-corosync, net-loss,
net-delay, slow-log, fail-leg, suspend, reload) on the log server or another node, at a drawn
moment: during the writes, while a write is held in a slowed leg, or during the first resync,
some overlapping. Never isolate or partition: cmirrord ignores quorum, so the logs of an unfenced
partition differ by design. Its check step lists only the checks its evidence guarantees.
With --coverage, a scenario that reached a line no earlier one reached is kept, and half the
later scenarios are mutations of a kept one (one event, the workload, the topology, or a new
event, drawn afresh).

Each failure gets a signature (check, kind of finding, faulted node or not, request type) and is
told apart: known bug N (every finding matches the bug's signature and the scenario did what the
bug needs), seen before in this run, or new. With --fixes, a bug whose fix is applied is not known.
Then each new failure (every failure with --shrink all) is shrunk: faults, steps, nodes, writers
and times are cut while the same failure comes back (each cut tried up to 3 times), and the result
is written as runs/<id>/found/<signature>.yaml, a case \`clogtest run\` runs.

Writes runs/<id>/explore.json after every scenario and every shrink (every scenario and every
failure with its count, first seed and minimal case), summary.json and report.html at the end, and
each scenario's case file and drawn form (.yaml, .json) under scenarios/.
Progress goes to stderr; the last line on stdout is
"explore: N scenarios (N passed, N failed, N inconclusive, N infra), findings: N new, N known (bugs ...)".

Options:
  --budget DURATION        how long to draw and run scenarios, like 10m or 1h (default 1h)
  --scenarios N            stop after N scenarios, whatever is left of the budget
  --seed S                 seed of the draw (default: drawn and printed); replays the same scenarios
  --shrink new|all|none    which failures to shrink (default new)
  --shrink-budget DURATION the time shrinking may take in all (default 30m; recorded apart),
                           shared equally among the failures, new ones first
  --from RUN_DIR           draw nothing: shrink the failures of an earlier explore run (its
                           explore.json and scenarios/), writing its found/ and explore.json
  --failure SLUG           with --from: only this failure (repeatable; slugs are in explore.json)
  --keep                   keep the case directories of passing scenarios too
${FIXES_HELP}
${coverageHelp}
${clusterOptionsHelp}

Exit 0 when no scenario failed with a new finding and none was inconclusive, 1 when one did, 3 when
scenarios could not be carried out and nothing failed, 2 for bad options.`,
  options: {
    ...clusterOptions,
    ...coverageOption,
    keep: { type: 'boolean' },
    budget: { type: 'string' },
    scenarios: { type: 'string' },
    seed: { type: 'string' },
    shrink: { type: 'string' },
    'shrink-budget': { type: 'string' },
    from: { type: 'string' },
    failure: { type: 'string', multiple: true },
  },
  async run(values) {
    const budgetMs = durationOption('budget', values.budget, 3_600_000);
    const shrinkBudgetMs = durationOption('shrink-budget', values['shrink-budget'], 1_800_000);
    const maxScenarios = values.scenarios === undefined ? Infinity : intOption('scenarios', values.scenarios, 1, 1, 100_000);
    const shrinkMode = (values.shrink ?? 'new') as ShrinkMode;
    if (!SHRINK_MODES.includes(shrinkMode)) throw new InputError(`--shrink must be one of ${SHRINK_MODES.join(', ')}, got "${values.shrink}"`);
    if (values.nodes !== undefined) throw new InputError('explore draws each scenario\'s nodes itself: --nodes does not apply');
    if (values.failure?.length && !values.from) throw new InputError('--failure names a failure of an earlier run: it needs --from RUN_DIR');
    const earlier = values.from ? readEarlierRun(values.from) : undefined;
    const seed = earlier?.seed ?? (values.seed === undefined ? randomInt(2 ** 32) : intOption('seed', values.seed, 0, 0, 2 ** 32 - 1));
    const fixes = earlier?.fixes ?? values.fixes ?? false;
    const cluster = await caseClusterOptions({ ...values, fixes });
    const runDir = earlier ? resolve(values.from!) : join(runsRoot(), `${timestamp()}-explore`);
    for (const d of ['scenarios', 'found']) mkdirSync(join(runDir, d), { recursive: true });
    const ex = new Explorer(runDir, cluster, fixes, values.keep ?? false, { seed, budgetMs });
    let toShrink: FoundFailure[];
    if (earlier) {
      ex.load(earlier);
      const unknown = (values.failure ?? []).filter((slug) => !earlier.failures.some((f) => f.slug === slug));
      if (unknown.length) throw new InputError(`--failure: ${values.from} has no failure ${unknown.join(', ')} (it has ${earlier.failures.map((f) => f.slug).join(', ') || 'none'})`);
      toShrink = ex.findings.failures.filter((f) => (values.failure?.length ? values.failure.includes(f.slug) : shrinkMode === 'all' || (shrinkMode === 'new' && !f.known)));
      progress(`explore ${runDir}: shrinking ${toShrink.length} of its ${earlier.failures.length} failure(s)`);
    } else {
      await drawAndRun(ex, { seed, budgetMs, maxScenarios, fixes, tokenMs: cluster.tokenMs ?? DEFAULT_TOKEN_MS });
      // New failures first.
      toShrink = shrinkMode === 'none' ? [] : ex.findings.failures.filter((f) => shrinkMode === 'all' || !f.known).sort((a, b) => Number(!!a.known) - Number(!!b.known));
    }
    const shrinkStarted = Date.now();
    // Each failure gets an equal share of what is left of the budget.
    for (const [i, f] of toShrink.entries()) {
      const left = shrinkStarted + shrinkBudgetMs - Date.now();
      if (left <= 0) break;
      await ex.shrinkFailure(f, Date.now() + left / (toShrink.length - i));
    }
    ex.finish(Date.now() - shrinkStarted, !earlier);
    process.stdout.write(`explore: ${ex.statusLine()}\n`);
    if (ex.findings.newFailures().length || ex.count('inconclusive')) return EXIT.checkFailed;
    if (ex.count('infra')) return EXIT.infra;
    return EXIT.ok;
  },
});

/** Draws scenarios and runs them until the budget or the count is spent. */
async function drawAndRun(ex: Explorer, o: { seed: number; budgetMs: number; maxScenarios: number; fixes: boolean; tokenMs: number }): Promise<void> {
  // The token bounds a drawn pause, so a replay of the seed needs the same one.
  const token = o.tokenMs !== DEFAULT_TOKEN_MS ? ` --token-ms ${o.tokenMs}` : '';
  const origin = (n: number) => `Drawn by clogtest explore --seed ${o.seed}${o.fixes ? ' --fixes' : ''}${token}, scenario ${n}`;
  progress(`explore ${ex.runDir}: seed ${o.seed} (replay with --seed ${o.seed}), budget ${seconds(o.budgetMs)}${o.fixes ? ', with the fixes' : ''}`);
  const draws = seededRandom(o.seed);
  const started = Date.now();
  for (let n = 1; n <= o.maxScenarios && Date.now() - started < o.budgetMs; n++) {
    const [scenarioSeed, x] = [Math.floor(draws() * 2 ** 32), draws()];
    const name = `explore-${o.seed}-${n}`;
    const parent = ex.corpus.parent(x);
    const s = parent
      ? mutateScenario(parent, scenarioSeed, name, `${origin(n)}, a mutation of ${parent.name}`, o.tokenMs)
      : drawScenario({ seed: scenarioSeed, name, origin: origin(n), tokenMs: o.tokenMs });
    await ex.explore(s);
    ex.exploreMs = Date.now() - started;
    progress(`explore: ${ex.statusLine()} in ${seconds(ex.exploreMs)}`);
  }
}

/** explore.json as a run writes it. */
interface ExploreRecord {
  runDir: string;
  seed: number;
  budgetMs: number;
  exploreMs: number;
  shrinkMs: number;
  fixes: boolean;
  scenarios: ScenarioRun[];
  failures: FoundFailure[];
  knownBugs: number[];
}

function readEarlierRun(dir: string): ExploreRecord {
  const file = join(dir, EXPLORE_FILE);
  if (!existsSync(file)) throw new InputError(`--from ${dir}: no ${EXPLORE_FILE} there (not an explore run directory)`);
  return JSON.parse(readFileSync(file, 'utf8')) as ExploreRecord;
}

function durationOption(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const ms = parseDuration(raw);
  if (ms === undefined || ms <= 0) throw new InputError(`--${name} must be a duration like 10m or 1h, got "${raw}"`);
  return ms;
}

interface ScenarioRun {
  name: string;
  seed: number;
  file: string;
  outcome: CaseResult['outcome'];
  durationMs: number;
  failure?: { slug: string; novelty: string; known?: number[] };
  /** A failed run in which a node came back to the ring unfenced (record/ring.ts): not a finding. */
  outOfModel?: string;
  /** With --coverage: lines it reached that no earlier scenario did. */
  newLines?: number;
}

/** One explore run: the scenarios it ran, the failures it told apart, and the results its report is made of. */
class Explorer {
  readonly findings = new FindingsLog();
  /** With --coverage: the scenarios that reached new lines, which later draws mutate. */
  readonly corpus = new Corpus();
  private readonly runs: ScenarioRun[] = [];
  private readonly results: CaseResult[] = [];
  private readonly bugs: number[];
  exploreMs = 0;
  private shrinkMs = 0;

  constructor(
    readonly runDir: string,
    private readonly cluster: CaseClusterOptions,
    private readonly fixes: boolean,
    private readonly keep: boolean,
    private readonly run: { seed: number; budgetMs: number },
  ) {
    this.bugs = knownFailureInForce({ bugs: [...KNOWN_BUGS.keys()] }, { fixes })?.bugs ?? [];
  }

  /** Takes over an earlier run's scenarios and failures, to shrink them. */
  load(earlier: ExploreRecord): void {
    this.runs.push(...earlier.scenarios);
    this.findings.failures.push(...earlier.failures);
    this.exploreMs = earlier.exploreMs;
    this.shrinkMs = earlier.shrinkMs;
  }

  /** explore.json, written after every scenario and shrink so an interrupted run keeps what it found. */
  private save(): void {
    const doc: ExploreRecord = { runDir: this.runDir, ...this.run, exploreMs: this.exploreMs, shrinkMs: this.shrinkMs, fixes: this.fixes, scenarios: this.runs, failures: this.findings.failures, knownBugs: this.findings.knownBugs() };
    writeFileSync(join(this.runDir, EXPLORE_FILE), `${JSON.stringify(doc, null, 2)}\n`);
  }

  count(outcome: CaseResult['outcome']): number {
    return this.runs.filter((r) => r.outcome === outcome).length;
  }

  statusLine(): string {
    const failed = this.runs.filter((r) => r.outcome === 'failed').length;
    const outOfModel = this.runs.filter((r) => r.outOfModel).length;
    const coverage = this.cluster.coverage ? `, coverage: ${this.corpus.lines} lines, ${this.corpus.kept.length} scenarios kept` : '';
    return `${this.runs.length} scenarios (${this.count('passed')} passed, ${failed} failed, ${this.count('inconclusive')} inconclusive, ${this.count('infra')} infra${outOfModel ? ` (${outOfModel} out of the model: a node back in the ring unfenced)` : ''}), findings: ${this.findings.line()}${coverage}`;
  }

  /** Writes the scenario's case file and runs it once; the classification of its failure, if it failed. */
  private async runScenario(s: Scenario, dir: string, runDir: string): Promise<{ file: string; result: CaseResult; failure?: Classification; outOfModel?: string }> {
    const file = join(dir, `${s.name}.yaml`);
    const text = caseText(s);
    writeFileSync(file, text);
    writeFileSync(scenarioJson(file), `${JSON.stringify(s, null, 2)}\n`);
    const loaded = validateCase(text, file);
    // A drawn scenario the loader refuses is explore's own bug, not the user's.
    if (!loaded.ok) throw new Error(`explore drew a case the loader refuses:\n${loaded.errors.join('\n')}`);
    const result = await runCase(loaded.case, { runDir, seed: s.seed, iteration: 1, cluster: this.cluster, keep: this.keep, fixes: this.fixes, say: progress });
    if (result.outOfModel) return { file, result, outOfModel: result.outOfModel };
    if (result.outcome !== 'failed') return { file, result };
    const record = CaseRecord.read(result.dir);
    const failure = classifyFailure(result.verdicts, { faultedNodes: record.faultedNodes(), triggers: caseTriggers(loaded.case), bugs: this.bugs });
    return { file, result, failure };
  }

  async explore(s: Scenario): Promise<void> {
    progress(`scenario ${s.name}: ${s.nodes} nodes, ${s.logType}, ${s.events.map((e) => `${e.action} on ${e.role === 'all' ? 'all' : e.on.join(',')} ${e.moment}`).join('; ')}`);
    const { file, result, failure, outOfModel } = await this.runScenario(s, join(this.runDir, 'scenarios'), this.runDir);
    this.results.push(result);
    const run: ScenarioRun = { name: s.name, seed: s.seed, file, outcome: result.outcome, durationMs: result.durationMs, ...(outOfModel ? { outOfModel } : {}) };
    if (outOfModel) {
      progress(`${s.name}: failed out of the model, not a finding: ${outOfModel}; ${result.dir}`);
    } else if (failure) {
      const novelty = this.findings.record(failure, s.seed, file, result.dir);
      run.failure = { slug: failure.slug, novelty, ...(failure.known ? { known: failure.known } : {}) };
      progress(`${s.name}: ${novelty === 'known' ? `known bug ${failure.known!.join(', ')}` : novelty === 'seen' ? `seen before (${failure.slug})` : `NEW (${failure.slug})`}: ${failure.signature}`);
    } else if (result.outcome === 'inconclusive') {
      progress(`!!! ${s.name} was inconclusive: explore listed a check its scenario gave no evidence for (${result.message?.split('\n')[0] ?? ''})`);
    }
    if (this.cluster.coverage) {
      const cov = readCaseCoverage(this.runDir, basename(result.dir));
      const fresh = cov ? this.corpus.offer(s, cov.coverage) : 0;
      run.newLines = fresh;
      progress(`${s.name}: ${fresh} line(s) no earlier scenario reached${fresh ? ', kept to mutate' : ''}; ${this.corpus.lines} reached in all`);
    }
    this.runs.push(run);
    this.save();
  }

  /** Shrinks one failure from its first scenario, writing found/<slug>.yaml; stops at `deadline`. */
  async shrinkFailure(f: FoundFailure, deadline: number): Promise<void> {
    const first = this.runs.find((r) => r.file === f.firstScenario)!;
    const original = JSON.parse(readFileSync(scenarioJson(f.firstScenario), 'utf8')) as Scenario;
    const dir = join(this.runDir, 'shrink', f.slug);
    mkdirSync(dir, { recursive: true });
    const t0 = Date.now();
    let k = 0;
    progress(`shrinking ${f.slug} from ${basename(f.firstScenario)} (${caseSteps(original).length} steps)`);
    const r = await shrink(original, {
      reductions: scenarioReductions,
      fails: async (s) => {
        k++;
        const candidate = { ...s, name: `${f.slug}-${k}` };
        const { failure } = await this.runScenario(candidate, dir, dir);
        return sameFailure(f, failure);
      },
      stop: () => Date.now() >= deadline,
      kept: (s, runs) => progress(`  ${f.slug}: kept a cut after ${runs} runs: ${caseSteps(s).length} steps`),
    });
    const minimal: Scenario = {
      ...r.scenario,
      name: `found-${f.slug}`,
      origin: `${first.name} (seed ${first.seed}) shrunk by clogtest explore in ${r.runs} runs${r.cutShort ? ', cut short by the shrink budget' : ''}; its first failure: ${f.signature}`,
    };
    const file = join(this.runDir, 'found', `${f.slug}.yaml`);
    writeFileSync(file, caseText(minimal));
    f.minimal = { file, steps: caseSteps(minimal).length, runs: r.runs, durationMs: Date.now() - t0, cutShort: r.cutShort };
    progress(`${f.slug}: ${file}, ${f.minimal.steps} steps, ${r.runs} runs in ${seconds(f.minimal.durationMs)}${r.cutShort ? ' (cut short)' : ''}`);
    this.shrinkMs += f.minimal.durationMs;
    this.save();
  }

  /** The run's coverage, summary.json (only for scenarios run now) and report.html. */
  finish(shrinkMs: number, ranScenarios: boolean): void {
    progress(`shrinking took ${seconds(shrinkMs)}`);
    this.save();
    if (ranScenarios) {
      const coverage = this.cluster.coverage ? finishRunCoverage(this.runDir, this.results.map((r) => basename(r.dir)), this.cluster.coverage, progress) : undefined;
      const replay = [...(this.fixes ? ['--fixes'] : [])];
      writeFileSync(join(this.runDir, SUMMARY_FILE), jsonSummary(this.runDir, this.results, replay, coverage ? coverageFigures(coverage.files) : undefined));
    }
    progress(`results: ${join(this.runDir, EXPLORE_FILE)}; report: ${writeReport(this.runDir)}`);
  }
}

/** A scenario's drawn form, beside its case file. */
function scenarioJson(caseFile: string): string {
  return caseFile.replace(/\.yaml$/, '.json');
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadCase } from '../case/load.ts';
import type { Case } from '../case/schema.ts';
import { EXIT, errorMessage, InputError } from '../base/errors.ts';
import { caseFile, loadCorpus, type Defect } from '../stack/mutation/corpus.ts';
import { scoreLine, type DefectOutcome } from '../stack/mutation/score.ts';
import { runsRoot, timestamp } from '../base/paths.ts';
import { progress } from '../base/progress.ts';
import { runCase } from '../run/run-case.ts';
import { defineCommand } from './command.ts';
import { caseClusterOptions, caseOutputOptions, clusterOptions, clusterOptionsHelp, coverageHelp, coverageOption, nodesOverride, type CaseClusterOptions } from './cluster-options.ts';
import { finishRunCoverage } from '../coverage/record.ts';

/** Cases without a seed of their own run with this one, so a corpus run is the same run each time. */
const DEFECT_SEED = 2009;

export default defineCommand({
  name: 'mutate',
  summary: 'plant each defect of the corpus, run the cases that should catch it, and print the score',
  help: `usage: clogtest mutate [--defect NAME]... [--list] [--json FILE] [--keep]

The corpus is kernel-patches/defects/*.patch (dm-log-userspace and dm-raid1, built into the
guest kernel like --kernel-patch) and vm-images/defects/*.patch (cmirrord, built into the
image like --daemon-patch). Each defect's header names its request type, the narrowest cases
that should catch it and the checks expected to fire. For each defect, the stack is built
with it (cached by content like any patch set: kernel defects share one ccache) and its cases
run one after the other until one fails a check: the defect is caught, and the checks that
fired are printed; a defect no case catches is missed. A case that cannot be carried out,
or is inconclusive, leaves the defect undecided.

The last line is the score: "mutation score: N/M caught, N missed, N undecided (T)".
Run directories: runs/<time>-mutate/<defect>/<case>/ (kept for every case that did not pass).

Options:
  --defect NAME            only this defect (repeatable)
  --list                   print the corpus (side, request, cases, expected checks) and build nothing
  --json FILE              write every defect's outcome as JSON
  --keep                   keep the case directories of passing cases too
${coverageHelp}
                           (each defect's under runs/<time>-mutate/<defect>/coverage/: its
                           own build, its own line numbers)
${clusterOptionsHelp}
  (--nodes overrides every case's topology.nodes)

Exit 0 when every defect was caught, 1 when one was missed, 3 when one is undecided.`,
  options: {
    ...clusterOptions,
    ...caseOutputOptions,
    ...coverageOption,
    defect: { type: 'string', multiple: true },
  },
  async run(values) {
    let corpus = loadCorpus();
    if (values.defect?.length) {
      const unknown = values.defect.filter((d) => !corpus.some((x) => x.name === d));
      if (unknown.length) throw new InputError(`mutate: no defect ${unknown.join(', ')} (see \`clogtest mutate --list\`)`);
      corpus = corpus.filter((d) => values.defect!.includes(d.name));
    }
    // Every case is loaded before anything builds: a typo costs seconds, not a kernel build.
    const names = [...new Set(corpus.flatMap((d) => d.cases))];
    const nodes = nodesOverride(values.nodes);
    const loaded = names.map((name) => loadCase(caseFile(name), { nodes }));
    const cases = new Map(names.map((name, i) => [name, loaded[i]!]));
    if (values.list) {
      for (const d of corpus) process.stdout.write(`${d.side.padEnd(6)} ${d.request.padEnd(22)} ${d.name.padEnd(36)} cases: ${d.cases.join(', ')}; expect: ${d.expect.join(', ')}\n`);
      process.stdout.write(`${corpus.length} defects\n`);
      return EXIT.ok;
    }
    const runDir = join(runsRoot(), `${timestamp()}-mutate`);
    mkdirSync(runDir, { recursive: true });
    const started = Date.now();
    const outcomes: DefectOutcome[] = [];
    for (const [i, d] of corpus.entries()) {
      progress(`defect ${i + 1}/${corpus.length}: ${d.name} (${d.side}, ${d.request})`);
      const outcome = await tryDefect(d, values, cases, join(runDir, d.name));
      outcomes.push(outcome);
      process.stdout.write(`${outcome.line}\n`);
    }
    const score = scoreLine(outcomes, Date.now() - started);
    if (values.json) writeFileSync(values.json, `${JSON.stringify({ runDir, outcomes }, null, 2)}\n`);
    progress(`run directories under ${runDir}`);
    process.stdout.write(`${score}\n`);
    if (outcomes.some((o) => o.result === 'missed')) return EXIT.checkFailed;
    if (outcomes.some((o) => o.result === 'undecided')) return EXIT.infra;
    return EXIT.ok;
  },
});

async function tryDefect(d: Defect, values: Parameters<typeof caseClusterOptions>[0] & { keep?: boolean; fixes?: boolean }, cases: Map<string, Case>, dir: string): Promise<DefectOutcome> {
  const t0 = Date.now();
  const base = { defect: d.name, side: d.side, request: d.request, expect: d.expect };
  let cluster: CaseClusterOptions;
  try {
    const patched = d.side === 'kernel' ? { 'kernel-patch': [d.file] } : { 'daemon-patch': [d.file] };
    cluster = await caseClusterOptions({ ...values, ...patched });
  } catch (err) {
    return outcomeOf({ ...base, result: 'undecided', why: `could not build the stack with it: ${errorMessage(err).split('\n')[0]}`, fired: [], durationMs: Date.now() - t0 });
  }
  const ran: string[] = [];
  try {
    return await runDefectCases(d, base, t0, values, cluster, cases, dir, ran);
  } finally {
    if (cluster.coverage && ran.length) finishRunCoverage(dir, ran, cluster.coverage, progress);
  }
}

/** The defect's cases one after the other, until one catches it; `ran` gets each case directory's name. */
async function runDefectCases(
  d: Defect,
  base: Pick<DefectOutcome, 'defect' | 'side' | 'request' | 'expect'>,
  t0: number,
  values: { keep?: boolean; fixes?: boolean },
  cluster: CaseClusterOptions,
  cases: Map<string, Case>,
  dir: string,
  ran: string[],
): Promise<DefectOutcome> {
  const undecided: string[] = [];
  for (const name of d.cases) {
    const c = cases.get(name)!;
    const r = await runCase(c, { runDir: dir, seed: c.seed ?? DEFECT_SEED, iteration: 1, cluster, keep: values.keep ?? false, fixes: values.fixes ?? false, say: progress });
    ran.push(basename(r.dir));
    // A case failing as its own known failure (every finding one of its bugs') shows the stack's known bug, not this defect.
    if (r.outcome === 'failed') {
      const fired = [...new Set(r.verdicts.filter((v) => v.valid === false).map((v) => v.check))];
      return outcomeOf({ ...base, result: 'caught', caughtBy: name, fired, durationMs: Date.now() - t0, dir: r.dir });
    }
    if (r.status !== 'passed') undecided.push(`${name}: ${r.status}: ${(r.message ?? '').split('\n')[0]}`);
  }
  if (undecided.length) return outcomeOf({ ...base, result: 'undecided', why: undecided.join('; '), fired: [], durationMs: Date.now() - t0 });
  return outcomeOf({ ...base, result: 'missed', why: `${d.cases.join(', ')} passed with it`, fired: [], durationMs: Date.now() - t0 });
}

function outcomeOf(o: Omit<DefectOutcome, 'line'>): DefectOutcome {
  const secs = `${Math.round(o.durationMs / 1000)}s`;
  const head = `${o.result.toUpperCase().padEnd(9)} ${o.defect} (${o.side}, ${o.request})`;
  let tail: string;
  if (o.result === 'caught') {
    const missing = o.expect.filter((c) => !o.fired.includes(c));
    tail = `by ${o.fired.join(', ')} in ${o.caughtBy}${missing.length ? `; expected too: ${missing.join(', ')}` : ''}`;
  } else tail = o.why ?? '';
  return { ...o, line: `${head}: ${tail} [${secs}]` };
}


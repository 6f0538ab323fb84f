import { writeFileSync } from 'node:fs';
import { InputError } from '../base/errors.ts';
import { junitXml, summaryLine } from '../report/junit.ts';
import { asCaseResults, loadSummaries, mergeSummaries } from '../report/merge.ts';
import { defineCommand } from './command.ts';

export default defineCommand({
  name: 'merge-results',
  summary: 'merge the JSON summaries of several shards into one JSON and one JUnit report',
  help: `usage: clogtest merge-results [--json FILE] [--junit FILE] SHARD.json...

Reads the files \`clogtest run --json\` wrote (one per shard or per run), and writes one
summary with every case and the counts recomputed, as JSON and/or JUnit XML. Prints the
closing line "N passed, N failed, N skipped" of the merged result.

Options:
  --json FILE    write the merged JSON summary
  --junit FILE   write the merged JUnit XML

Exit 0 when the merged result has no failure, 1 when it has one, 2 for unreadable input.`,
  allowPositionals: true,
  options: { json: { type: 'string' }, junit: { type: 'string' } },
  async run(values, positionals) {
    if (!positionals.length) throw new InputError('merge-results: name at least one JSON summary');
    const merged = mergeSummaries(loadSummaries(positionals));
    if (values.json) writeFileSync(values.json, `${JSON.stringify(merged, null, 2)}\n`);
    if (values.junit) writeFileSync(values.junit, junitXml(asCaseResults(merged)));
    process.stdout.write(`${summaryLine(merged)}\n`);
    return merged.failed > 0 ? 1 : 0;
  },
});

/**
 * Reads TAP from tap's `tap` reporter, passes it through, and ends the output with
 * the line CI reads: `N passed, N failed, N skipped`. Counted are the tests inside
 * each test file (TAP's first level of subtests); todo tests count as skipped.
 */
import { createInterface } from 'node:readline';

const SUBTEST = /^ {4}(not ok|ok) \d+\b(.*)$/;
let passed = 0;
let failed = 0;
let skipped = 0;
let fileFailures = 0;

for await (const line of createInterface({ input: process.stdin })) {
  process.stdout.write(`${line}\n`);
  const m = SUBTEST.exec(line);
  if (m) {
    if (/#\s*(SKIP|TODO)\b/i.test(m[2])) skipped++;
    else if (m[1] === 'ok') passed++;
    else failed++;
    continue;
  }
  if (/^not ok \d+/.test(line)) fileFailures++;
}
// A file that crashed before running any subtest still has to count as a failure.
if (fileFailures > failed) failed = fileFailures;
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed > 0 ? 1 : 0);

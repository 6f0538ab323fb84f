/**
 * Imported first by every integration test: tap ends a test that runs past its
 * timeout with SIGTERM, and 'exit' handlers do not run on a signal, so without this
 * a timed-out test would leave its guests running.
 */
import { killAllTracked } from '../../harness/base/proc.ts';

process.on('exit', () => killAllTracked());
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(signal, () => {
    const killed = killAllTracked();
    process.stderr.write(`${signal}: killed ${killed.length} process group(s) this test started\n`);
    process.exit(128 + (signal === 'SIGHUP' ? 1 : signal === 'SIGINT' ? 2 : 15));
  });
}

/** Waiting for a condition: a deadline, and a message saying what was awaited and what was seen instead. */
import { DeadlineError, errorMessage, InfraError } from './errors.ts';

/** Thrown by a probe when waiting longer cannot help (say, the daemon it waits for has exited). */
export class GiveUp extends Error {}

/** Polls probe until it returns a value, or throws a DeadlineError carrying the last thing it saw. */
export async function poll<T>(
  awaited: string,
  deadlineMs: number,
  intervalMs: number,
  probe: () => Promise<{ done: true; value: T } | { done: false; seen: string }>,
  abortIf: () => string | undefined = () => undefined,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let seen = 'nothing yet';
  for (;;) {
    try {
      const r = await probe();
      if (r.done) return r.value;
      seen = r.seen;
    } catch (err) {
      if (err instanceof GiveUp) throw new InfraError(`gave up waiting for ${awaited}: ${err.message}`, { cause: err });
      seen = errorMessage(err);
    }
    const aborted = abortIf();
    if (aborted) throw new InfraError(`gave up waiting for ${awaited}: ${aborted}; last seen: ${seen}`);
    if (Date.now() + intervalMs > deadline) throw new DeadlineError(awaited, deadlineMs / 1000, seen);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * A stack of clean-up actions. Register the undo before doing the thing, so a
 * half-finished setup is still undone; close() runs them in reverse order, keeps
 * going past failures and reports them without hiding the error that caused the close.
 */
import { errorMessage } from './errors.ts';

export type Cleanup = () => Promise<void> | void;

export class Scope {
  private readonly stack: Array<{ name: string; fn: Cleanup }> = [];
  private closing: Promise<string[]> | undefined;

  constructor(private readonly warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {}

  defer(name: string, fn: Cleanup): void {
    if (this.closing) throw new Error(`cannot register "${name}": scope is already closing`);
    this.stack.push({ name, fn });
  }

  get size(): number {
    return this.stack.length;
  }

  /** Runs every registered clean-up once, newest first; returns the failures as lines. */
  close(): Promise<string[]> {
    this.closing ??= (async () => {
      const failures: string[] = [];
      while (this.stack.length) {
        const { name, fn } = this.stack.pop()!;
        try {
          await fn();
        } catch (err) {
          const line = `clean-up "${name}" failed: ${errorMessage(err)}`;
          failures.push(line);
          this.warn(line);
        }
      }
      return failures;
    })();
    return this.closing;
  }
}

/** Runs body inside a fresh scope and always closes it, whatever body does. */
export async function withScope<T>(body: (scope: Scope) => Promise<T>, scope = new Scope()): Promise<T> {
  try {
    return await body(scope);
  } finally {
    await scope.close();
  }
}

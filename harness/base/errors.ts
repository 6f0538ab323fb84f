/**
 * Exit codes and the error classes that carry them. Anything a user can cause is
 * one of these, so cli.ts prints one or two plain lines instead of a stack trace.
 */
export const EXIT = {
  ok: 0,
  checkFailed: 1,
  usage: 2,
  infra: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The message of whatever was thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** An internal error as a bug report wants it: its stack, then each cause's (five at most). */
export function internalErrorText(err: unknown): string {
  const chain: string[] = [];
  for (let e: unknown = err; e !== undefined && chain.length < 5; e = e instanceof Error ? e.cause : undefined) chain.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
  return chain.join('\ncaused by: ');
}

/** Every error clogtest raises on purpose; `cause` keeps the error it was made from, for whoever debugs it. */
export class ClogError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad arguments, bad YAML, a patch that does not apply, a config option kconfig dropped. */
export class InputError extends ClogError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.usage, options);
  }
}

/** The machine, a tool, a VM or the network let us down; nothing is known about the code under test. */
export class InfraError extends ClogError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.infra, options);
  }
}

export class MissingToolError extends InfraError {
  constructor(readonly tool: string) {
    super(`missing ${tool}: run \`make setup\``);
  }
}

/** A wait ran past its deadline; says what was awaited and what was seen instead. */
export class DeadlineError extends InfraError {
  constructor(awaited: string, seconds: number, lastSeen: string) {
    super(`timed out after ${seconds}s waiting for ${awaited}; last seen: ${lastSeen}`);
  }
}

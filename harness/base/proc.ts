/**
 * The one place that spawns host processes. Every child runs in its own process
 * group so a timeout or tear-down can take its grandchildren (make -> gcc) with it;
 * every child is tracked by PID so an abrupt exit of the harness still kills what
 * it started, and nothing else.
 */
import { execa, type ResultPromise } from 'execa';
import { accessSync, constants, createWriteStream, readdirSync, readFileSync, type WriteStream } from 'node:fs';
import { delimiter, join } from 'node:path';
import { InfraError, MissingToolError } from './errors.ts';

const live = new Set<number>();

function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/** Last resort on process exit: SIGKILL every group we started that is still alive. */
export function killAllTracked(): number[] {
  const killed: number[] = [];
  for (const pid of live) {
    if (signalGroup(pid, 'SIGKILL')) killed.push(pid);
  }
  live.clear();
  return killed;
}

/** A process's state letter and process group, from /proc; undefined when it is gone. */
function procStat(pid: number | string): { state: string; pgrp: number } | undefined {
  try {
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after its last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: state!, pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

/**
 * Whether pid is a running process. A zombie is not: it has exited and holds nothing but its PID, and where
 * PID 1 does not reap orphans (a container's shell, some CI runners) a killed child can stay one for good.
 */
export function isAlive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

export function findTool(tool: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin']);
  for (const dir of dirs) {
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      continue;
    }
  }
  return undefined;
}

export function requireTools(...tools: string[]): void {
  for (const tool of tools) {
    if (!findTool(tool)) throw new MissingToolError(tool);
  }
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Kill the whole process group after this long. */
  timeoutMs?: number;
  /** Append stdout and stderr here instead of buffering them (for long builds). */
  logFile?: string;
  input?: string;
  /** Resolve with a non-zero exit code instead of throwing. */
  allowFailure?: boolean;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The last lines of output: of the log file when one was given. */
  tail: string[];
  timedOut: boolean;
}

const TAIL_LINES = 30;

/** A command that failed on the host: names the command, its exit code and its last output. */
export class HostCommandError extends InfraError {
  constructor(
    readonly command: string,
    readonly result: RunResult,
  ) {
    const why = result.timedOut ? 'timed out' : `exited ${result.exitCode}`;
    const tail = result.tail.length ? `\n${result.tail.join('\n')}` : '';
    super(`\`${command}\` ${why}${tail}`);
  }
}

function keepTail(lines: string[], chunk: string): void {
  lines.push(...chunk.split('\n').filter((l) => l.length > 0));
  if (lines.length > TAIL_LINES) lines.splice(0, lines.length - TAIL_LINES);
}

/** One word for a POSIX shell, quoted only when it needs to be. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function describeCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map(shellQuote).join(' ');
}

export async function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  if (!cmd.includes('/') && !findTool(cmd)) throw new MissingToolError(cmd);
  let log: WriteStream | undefined;
  if (opts.logFile) {
    log = createWriteStream(opts.logFile, { flags: 'a' });
    log.write(`$ ${describeCommand(cmd, args)}\n`);
  }
  const tail: string[] = [];
  const child: ResultPromise = execa(cmd, args, {
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: true,
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : undefined,
    detached: true,
    reject: false,
    buffer: !log,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const pid = child.pid;
  if (pid !== undefined) live.add(pid);
  if (log) {
    const sink = log;
    const onData = (data: Buffer) => {
      sink.write(data);
      keepTail(tail, data.toString('utf8'));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  }
  let timedOut = false;
  const timer = opts.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        if (pid !== undefined) void stopGroup(pid, () => child.exitCode !== null, 2000);
      }, opts.timeoutMs)
    : undefined;
  const result = await child;
  if (timer) clearTimeout(timer);
  if (pid !== undefined) live.delete(pid);
  if (log) await new Promise<void>((resolve) => log!.end(resolve));
  const stdout = typeof result.stdout === 'string' ? result.stdout : '';
  const stderr = typeof result.stderr === 'string' ? result.stderr : '';
  if (!log) keepTail(tail, `${stdout}\n${stderr}`);
  const out: RunResult = { exitCode: result.exitCode ?? -1, stdout, stderr, tail, timedOut };
  if (result.failed && result.exitCode === undefined && !timedOut && result.cause instanceof Error) {
    throw new InfraError(`cannot run \`${describeCommand(cmd, args)}\`: ${result.cause.message}`, { cause: result.cause });
  }
  if ((out.exitCode !== 0 || timedOut) && !opts.allowFailure) {
    throw new HostCommandError(describeCommand(cmd, args), out);
  }
  return out;
}

/**
 * Live (not zombie) processes of group `pgid`, from /proc. A signal test would count zombies too, and a
 * killed grandchild stays one until its new parent reaps it, which some PID 1s never do.
 */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const stat = procStat(e);
    if (stat?.pgrp === pgid && stat.state !== 'Z') out.push(Number(e));
  }
  return out;
}

const groupAlive = (pgid: number) => groupMembers(pgid).length > 0;

/**
 * Stop a process group in stages: SIGTERM, wait up to graceMs for the leader, then SIGKILL whatever is left
 * of the group, as execa's forceKillAfterDelay does: a grandchild that ignores SIGTERM outlives its leader and
 * can hold the pipe a caller waits on. Returns true when SIGKILL was needed, so callers can say that they had to.
 */
export async function stopGroup(pid: number, exited: () => boolean, graceMs: number): Promise<boolean> {
  if (exited() && !groupAlive(pid)) return false;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (exited() && !groupAlive(pid)) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!groupAlive(pid) && exited()) return false;
  signalGroup(pid, 'SIGKILL');
  return true;
}

/** A long-lived child (QEMU): started in its own group, tracked until it exits, killed by the kernel if the harness dies. */
export interface Daemon {
  readonly pid: number;
  readonly exited: Promise<number | null>;
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL after graceMs; resolves true when SIGKILL was needed. */
  stop(graceMs?: number): Promise<boolean>;
}

export function startDaemon(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; logFile: string; env?: Record<string, string | undefined> },
): Daemon {
  if (!cmd.includes('/') && !findTool(cmd)) throw new MissingToolError(cmd);
  // setpriv (util-linux) sets the parent-death signal and execs cmd in place: the daemon dies with the
  // harness even when nothing of it runs to stop it (SIGKILL, the OOM killer, a CI job's hard timeout).
  const child = execa('setpriv', ['--pdeathsig', 'KILL', '--', cmd, ...args], {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    reject: false,
    buffer: false,
    stdin: 'ignore',
    stdout: { file: opts.logFile, append: true },
    stderr: { file: opts.logFile, append: true },
  });
  const pid = child.pid;
  if (pid === undefined) throw new InfraError(`cannot start \`${describeCommand(cmd, args)}\``);
  live.add(pid);
  let done = false;
  const exited = child.then((r) => {
    done = true;
    live.delete(pid);
    return r.exitCode ?? null;
  });
  return {
    pid,
    exited,
    hasExited: () => done,
    stop: async (graceMs = 3000) => {
      const killed = await stopGroup(pid, () => done, graceMs);
      await exited;
      return killed;
    },
  };
}

/**
 * SSH into one guest (ssh2, no host ssh binary). Host keys are not checked: the
 * guests are ours and their keys change with every image. Every remote command
 * has a deadline, and every failure names the node and the command.
 */
import { createWriteStream, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Client, type ClientChannel } from 'ssh2';
import { DeadlineError, InfraError } from '../../base/errors.ts';
import { poll } from '../../base/poll.ts';
import { shellQuote } from '../../base/proc.ts';
import { GUEST_STREAM_DIR } from '../../base/guest-contract.ts';

export interface SshTarget {
  host?: string;
  port: number;
  /** The private key's contents (OpenSSH or PEM format). */
  privateKey: string | Buffer;
  username?: string;
  /** Names the guest in errors, e.g. "node2". */
  label?: string;
}

export interface ConnectOptions extends SshTarget {
  deadlineMs: number;
  /** Polled between attempts: a reason to give up early (say, QEMU exited), or undefined. */
  abortIf?: () => string | undefined;
}

/** How long a stopped stream's command has to end on SIGTERM before its channel is closed under it. */
export const STREAM_STOP_GRACE_MS = 2000;

/** What the channel's exit-status or exit-signal said, if it came. */
interface ChannelExit {
  code?: number;
  signal?: string;
}

export interface ExecOptions {
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string | Buffer;
}

export interface ExecResult {
  code: number;
  /** Set when the command was killed by a signal (code is then -1). */
  signal?: string;
  stdout: string;
  stderr: string;
}

export const DEFAULT_EXEC_TIMEOUT_MS = 60_000;
const RETRY_PAUSE_MS = 300;

function lastLines(text: string, n: number): string {
  return text.split('\n').filter((l) => l.trim()).slice(-n).join('\n');
}

/** A remote command that exited non-zero: node, command, exit code and the end of its stderr. */
export class RemoteCommandError extends InfraError {
  constructor(
    readonly node: string,
    readonly command: string,
    readonly result: ExecResult,
  ) {
    const why = result.signal ? `was killed by ${result.signal}` : `exited ${result.code}`;
    const tail = lastLines(result.stderr, 10) || lastLines(result.stdout, 5);
    super(`${node}: \`${command}\` ${why}${tail ? `\n${tail}` : ''}`);
  }
}

function connectOnce(target: SshTarget, readyTimeout: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let settled = false;
    // ssh2 may emit more than one error for one failed attempt; later ones are expected noise.
    client.on('error', (err) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(err);
    });
    client.once('ready', () => {
      if (settled) return;
      settled = true;
      resolve(client);
    });
    client.connect({
      host: target.host ?? '127.0.0.1',
      port: target.port,
      username: target.username ?? 'root',
      privateKey: target.privateKey,
      readyTimeout,
      hostVerifier: () => true,
    });
  });
}

/** Retries until the guest's sshd lets us in, the deadline passes, or abortIf gives a reason to stop. */
export async function connectWithRetry(opts: ConnectOptions): Promise<Ssh> {
  const label = opts.label ?? `127.0.0.1:${opts.port}`;
  const awaited = `${label}: sshd on 127.0.0.1:${opts.port}`;
  const deadline = Date.now() + opts.deadlineMs;
  const aborted = () => opts.abortIf?.();
  if (aborted()) throw new InfraError(`${label}: gave up waiting for sshd: ${aborted()}`);
  return poll(awaited, opts.deadlineMs, RETRY_PAUSE_MS, async () => {
    const client = await connectOnce(opts, Math.min(10_000, Math.max(1000, deadline - Date.now())));
    return { done: true, value: new Ssh(client, label) };
  }, aborted);
}

export interface RemoteStream {
  /** Exit code of the remote command, or null when it ended without one (connection lost, stopped). */
  readonly done: Promise<number | null>;
  /** Asks the command to end; see Ssh.stream. */
  stop(): void;
}

/** A command kept running on a channel, asked one line at a time; see Ssh.lines. */
export interface LineSession {
  /** Writes line and resolves with the next line the command prints. */
  ask(line: string, deadlineMs: number): Promise<string>;
  close(): void;
}

export class Ssh {
  private closedReason: string | undefined;
  /** Numbers the streams' session-id files. */
  private streams = 0;

  constructor(
    private readonly client: Client,
    readonly label: string,
  ) {
    client.on('error', (err) => (this.closedReason ??= `ssh connection failed: ${err.message}`));
    client.on('close', () => (this.closedReason ??= 'ssh connection closed'));
  }

  get isOpen(): boolean {
    return this.closedReason === undefined;
  }

  /**
   * Opens an exec channel. Its exit is recorded from inside ssh2's callback, before anything is awaited:
   * a short command's exit-status can arrive in the same packet run as the exec's reply, and ssh2 emits
   * 'exit' while still parsing it, so a listener attached after an await misses it (seen under TCG load
   * as "ended without an exit status" for `date` and `dmsetup suspend`).
   */
  private channel(cmd: string): Promise<{ ch: ClientChannel; exit: ChannelExit }> {
    if (this.closedReason) return Promise.reject(new InfraError(`${this.label}: cannot run \`${cmd}\`: ${this.closedReason}`));
    return new Promise((resolve, reject) => {
      this.client.exec(cmd, (err, ch) => {
        if (err) {
          reject(new InfraError(`${this.label}: cannot run \`${cmd}\`: ${err.message}`));
          return;
        }
        const exit: ChannelExit = {};
        ch.on('exit', (c: number | null, sig?: string) => {
          if (typeof c === 'number') exit.code = c;
          if (sig) exit.signal = sig;
        });
        resolve({ ch, exit });
      });
    });
  }

  /**
   * The deadline covers opening the channel too, and rejects when it passes, whether or not the channel ever
   * closes: a command stuck in the guest's kernel (dmsetup status while cmirrord is dead sits in D state)
   * keeps its session open, and a close that waited for the guest would wait for ever.
   */
  private execRaw(cmd: string, opts: ExecOptions): Promise<{ code: number; signal?: string; stdout: Buffer; stderr: Buffer }> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let ch: ClientChannel | undefined;
      let settled = false;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        f();
      };
      const timer = setTimeout(() => {
        const seen = lastLines(Buffer.concat(err).toString('utf8'), 3) || lastLines(Buffer.concat(out).toString('utf8'), 3) || (ch ? 'no output' : 'the channel never opened');
        settle(() => reject(new DeadlineError(`${this.label}: \`${cmd}\` to finish`, timeoutMs / 1000, seen)));
        ch?.close();
      }, timeoutMs);
      this.channel(cmd).then(
        ({ ch: opened, exit }) => {
          ch = opened;
          // The deadline passed while the channel opened: nobody waits for this command any more.
          if (settled) return void opened.close();
          opened.on('data', (d: Buffer) => out.push(d));
          opened.stderr.on('data', (d: Buffer) => err.push(d));
          opened.on('close', () => {
            const { code, signal } = exit;
            if (code === undefined && signal === undefined) {
              settle(() => reject(new InfraError(`${this.label}: \`${cmd}\` ended without an exit status (${this.closedReason ?? 'channel closed'})`)));
            } else settle(() => resolve({ code: code ?? -1, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
          });
          if (opts.input !== undefined) opened.end(opts.input);
          else opened.end();
        },
        (e: unknown) => settle(() => reject(e)),
      );
    });
  }

  /** Runs cmd through the guest's shell; a non-zero exit is a result, not an error. */
  async exec(cmd: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.execRaw(cmd, opts);
    return { code: r.code, signal: r.signal, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
  }

  async execOrThrow(cmd: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.exec(cmd, opts);
    if (r.code !== 0) throw new RemoteCommandError(this.label, cmd, r);
    return r;
  }

  /**
   * Writes a local file (path) or bytes to remotePath through `cat`, so the guest needs no sftp-server. The bytes
   * go to a temporary name that is renamed over remotePath: a process reading the file while another upload
   * replaces it reads the whole old file or the whole new one (seen: a writer of one mirror's workload started
   * Python on clogwrite.py while the next workload's upload had truncated it: "'(' was never closed").
   */
  async upload(src: string | Buffer, remotePath: string, opts: { mode?: string; timeoutMs?: number } = {}): Promise<void> {
    const data = typeof src === 'string' ? await readFile(src) : src;
    const part = shellQuote(`${remotePath}.part`) + '.$$';
    const chmod = opts.mode ? ` && chmod ${shellQuote(opts.mode)} ${part}` : '';
    await this.execOrThrow(`cat > ${part}${chmod} && mv -f ${part} ${shellQuote(remotePath)}`, { input: data, timeoutMs: opts.timeoutMs });
  }

  async download(remotePath: string, localPath: string, opts: { timeoutMs?: number } = {}): Promise<void> {
    const cmd = `cat ${shellQuote(remotePath)}`;
    const r = await this.execRaw(cmd, opts);
    if (r.code !== 0) {
      throw new RemoteCommandError(this.label, cmd, { code: r.code, signal: r.signal, stdout: '', stderr: r.stderr.toString('utf8') });
    }
    writeFileSync(localPath, r.stdout);
  }

  /**
   * Starts cmd (which must answer every line it reads with one line) and keeps it on one channel: an ask()
   * costs a round trip, not a channel, a session and a guest process as exec() does.
   */
  async lines(cmd: string, timeoutMs: number): Promise<LineSession> {
    const opened = this.channel(cmd);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Nobody waits for a channel that opens after the deadline: close it, or its command runs on.
        opened.then(({ ch: late }) => late.close(), () => {});
        reject(new DeadlineError(`${this.label}: a channel for \`${cmd}\``, timeoutMs / 1000, 'no channel'));
      }, timeoutMs);
    });
    let ch: ClientChannel;
    try {
      ({ ch } = await Promise.race([opened, expired]));
    } finally {
      clearTimeout(timer);
    }
    let buffered = '';
    const answers: string[] = [];
    let waiter: ((answer: string | Error) => void) | undefined;
    let ended: Error | undefined;
    ch.on('data', (d: Buffer) => {
      buffered += d.toString('utf8');
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        answers.push(buffered.slice(0, i));
        buffered = buffered.slice(i + 1);
      }
      if (waiter && answers.length) waiter(answers.shift()!);
    });
    ch.stderr.on('data', () => {});
    ch.on('close', () => {
      ended = new InfraError(`${this.label}: \`${cmd}\` ended (${this.closedReason ?? 'channel closed'})`);
      waiter?.(ended);
    });
    const label = this.label;
    return {
      ask(line: string, deadlineMs: number): Promise<string> {
        if (ended) return Promise.reject(ended);
        if (waiter) return Promise.reject(new InfraError(`${label}: \`${cmd}\` asked twice at once`));
        return new Promise((resolve, reject) => {
          const t = setTimeout(() => {
            waiter = undefined;
            reject(new DeadlineError(`${label}: an answer to \`${line}\``, deadlineMs / 1000, 'no answer'));
          }, deadlineMs);
          // A line left over belongs to an ask that gave up waiting: not this one's answer.
          answers.length = 0;
          waiter = (answer) => {
            clearTimeout(t);
            waiter = undefined;
            if (answer instanceof Error) reject(answer);
            else resolve(answer);
          };
          ch.write(`${line}\n`);
        });
      },
      close: () => ch.end(),
    };
  }

  /**
   * Starts a long-running command, appending its stdout and stderr to logFile until it ends or stop().
   * stop() sends SIGTERM to the command's session and lets the channel close when the command has ended,
   * so lines it wrote before it died still reach the log (a writer's "write-start" line names a write
   * that may land); only a command that outlives STREAM_STOP_GRACE_MS (one stuck in D state) has its
   * channel cut. The signal goes by a second command, `pkill -s`: sshd refuses a channel's signal request
   * for a root login, which it serves without privilege separation.
   */
  async stream(cmd: string, logFile: string): Promise<RemoteStream> {
    const sidFile = `${GUEST_STREAM_DIR}/${++this.streams}.sid`;
    // The session's shell is its session's leader: $$ is the session id.
    const { ch, exit } = await this.channel(`mkdir -p ${GUEST_STREAM_DIR} && echo $$ >${sidFile}; ${cmd}`);
    const log = createWriteStream(logFile, { flags: 'a' });
    ch.pipe(log, { end: false });
    ch.stderr.pipe(log, { end: false });
    let closed = false;
    const done = new Promise<number | null>((resolve) => {
      ch.on('close', () => {
        closed = true;
        log.end(() => resolve(exit.code ?? null));
      });
    });
    ch.end();
    const stop = () => {
      if (closed) return;
      // A node that is down or frozen does not answer; the grace below cuts its channel anyway.
      this.exec(`pkill -TERM -s "$(cat ${sidFile})"`, { timeoutMs: STREAM_STOP_GRACE_MS }).catch(() => undefined);
      const cut = setTimeout(() => ch.close(), STREAM_STOP_GRACE_MS);
      void done.then(() => clearTimeout(cut));
    };
    return { done, stop };
  }

  /** An interactive login shell wired to this process's terminal; resolves with its exit code. */
  shell(): Promise<number> {
    const { stdin, stdout } = process;
    const tty = stdin.isTTY === true;
    const window = { term: process.env.TERM ?? 'xterm', rows: stdout.rows ?? 24, cols: stdout.columns ?? 80 };
    return new Promise((resolve, reject) => {
      this.client.shell(tty ? window : false, (err, ch) => {
        if (err) {
          reject(new InfraError(`${this.label}: cannot open a shell: ${err.message}`));
          return;
        }
        let code = 0;
        const onResize = () => ch.setWindow(stdout.rows ?? 24, stdout.columns ?? 80, 0, 0);
        if (tty) {
          stdin.setRawMode(true);
          stdout.on('resize', onResize);
        }
        stdin.pipe(ch);
        ch.pipe(stdout);
        ch.stderr.pipe(process.stderr);
        ch.on('exit', (c: number | null) => {
          if (typeof c === 'number') code = c;
        });
        ch.on('close', () => {
          stdin.unpipe(ch);
          if (tty) {
            stdin.setRawMode(false);
            stdout.off('resize', onResize);
          }
          stdin.pause();
          resolve(code);
        });
      });
    });
  }

  close(): void {
    this.closedReason ??= 'closed by the harness';
    this.client.end();
  }
}

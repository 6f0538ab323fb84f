/**
 * A minimal QMP client: one unix socket, newline-delimited JSON, commands matched
 * to replies by id so an asynchronous event in between cannot be taken for a reply.
 */
import { createConnection, type Socket } from 'node:net';
import { DeadlineError, InfraError } from '../../base/errors.ts';

export const DEFAULT_QMP_DEADLINE_MS = 5000;

export interface QmpEvent {
  event: string;
  data?: unknown;
  timestamp?: { seconds: number; microseconds: number };
}

export interface QmpStatus {
  running: boolean;
  status: string;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class QmpError extends InfraError {}

/** The socket went away: after `quit` that is the expected outcome. */
export class QmpConnectionLost extends QmpError {}

export class Qmp {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private closedWith: QmpConnectionLost | undefined;
  /** Events seen so far (SHUTDOWN, STOP, RESUME, ...), oldest first. */
  readonly events: QmpEvent[] = [];

  private constructor(
    private readonly socket: Socket,
    readonly label: string,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new QmpConnectionLost(`${label}: QMP socket error: ${err.message}`)));
    socket.on('close', () => this.fail(new QmpConnectionLost(`${label}: QMP connection closed`)));
  }

  /** Connects, reads the greeting and leaves capabilities negotiation mode. */
  static async connect(path: string, opts: { label?: string; deadlineMs?: number } = {}): Promise<Qmp> {
    const label = opts.label ?? path;
    const deadlineMs = opts.deadlineMs ?? DEFAULT_QMP_DEADLINE_MS;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection(path);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new DeadlineError(`${label}: QMP connection on ${path}`, deadlineMs / 1000, 'no connection'));
      }, deadlineMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(new QmpError(`${label}: cannot connect to QMP socket ${path}: ${err.message}`));
      });
    });
    const qmp = new Qmp(socket, label);
    try {
      await qmp.greeting(deadlineMs);
      await qmp.execute('qmp_capabilities', undefined, deadlineMs);
    } catch (err) {
      qmp.close();
      throw err;
    }
    return qmp;
  }

  private greetingWaiter: ((err?: Error) => void) | undefined;

  private greeting(deadlineMs: number): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.greetingWaiter = undefined;
        reject(new DeadlineError(`${this.label}: QMP greeting`, deadlineMs / 1000, 'nothing'));
      }, deadlineMs);
      this.greetingWaiter = (err) => {
        clearTimeout(timer);
        this.greetingWaiter = undefined;
        if (err) reject(err);
        else resolve();
      };
    });
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.onMessage(line);
    }
  }

  private onMessage(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.fail(new QmpConnectionLost(`${this.label}: QMP sent something that is not JSON: ${line.slice(0, 200)}`));
      this.socket.destroy();
      return;
    }
    if ('QMP' in msg) {
      this.greetingWaiter?.();
      return;
    }
    if (typeof msg.event === 'string') {
      this.events.push(msg as unknown as QmpEvent);
      return;
    }
    const id = typeof msg.id === 'string' ? msg.id : undefined;
    const p = id === undefined ? undefined : this.pending.get(id);
    if (!p || id === undefined) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if ('error' in msg) {
      const e = msg.error as { class?: string; desc?: string };
      p.reject(new QmpError(`${this.label}: QMP error ${e.class ?? '?'}: ${e.desc ?? JSON.stringify(e)}`));
    } else {
      p.resolve(msg.return);
    }
  }

  private fail(err: QmpConnectionLost): void {
    this.closedWith ??= err;
    this.greetingWaiter?.(err);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(err);
    }
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>, deadlineMs = DEFAULT_QMP_DEADLINE_MS): Promise<T> {
    if (this.closedWith) return Promise.reject(new QmpConnectionLost(`${this.closedWith.message} (before ${command})`));
    const id = String(this.nextId++);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new DeadlineError(`${this.label}: reply to QMP ${command}`, deadlineMs / 1000, 'no reply'));
      }, deadlineMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      const msg = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
      this.socket.write(`${JSON.stringify(msg)}\n`);
    });
  }

  stop(deadlineMs?: number): Promise<void> {
    return this.execute<void>('stop', undefined, deadlineMs);
  }

  cont(deadlineMs?: number): Promise<void> {
    return this.execute<void>('cont', undefined, deadlineMs);
  }

  systemReset(deadlineMs?: number): Promise<void> {
    return this.execute<void>('system_reset', undefined, deadlineMs);
  }

  queryStatus(deadlineMs?: number): Promise<QmpStatus> {
    return this.execute<QmpStatus>('query-status', undefined, deadlineMs);
  }

  /**
   * Asks QEMU to exit. QEMU may close the socket before or after replying;
   * either way the request went through, so a closed connection is success.
   */
  async quit(deadlineMs?: number): Promise<void> {
    try {
      await this.execute<void>('quit', undefined, deadlineMs);
    } catch (err) {
      if (err instanceof QmpConnectionLost) return;
      throw err;
    }
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  close(): void {
    this.socket.destroy();
  }
}

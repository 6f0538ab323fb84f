/**
 * One QEMU process: its private root overlay, its command line on disk for
 * reproduction by hand, its QMP connection, and a shutdown that escalates to
 * SIGKILL by PID and says so.
 */
import { closeSync, copyFileSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { errorMessage, InputError } from '../../base/errors.ts';
import { GiveUp, poll } from '../../base/poll.ts';
import { describeCommand, run, shellQuote, startDaemon, type Daemon } from '../../base/proc.ts';
import { progress, type Progress } from '../../base/progress.ts';
import { Qmp } from './qmp.ts';
import { accel, qemuArgs, type QemuSpec } from './qemu-args.ts';
import { cachedVerdict, cacheVerdict, decideAccel, PROBE_DEADLINE_MS, runProbe, type AccelVerdict } from './accel-probe.ts';
import { cacheRoot } from '../../base/paths.ts';

export const QEMU = 'qemu-system-x86_64';

/**
 * The accelerator to use and why (accel-probe.ts): CLOGTEST_ACCEL when set, else TCG without an openable
 * /dev/kvm, else what a test guest under KVM showed, probed once per host boot.
 */
export async function chooseAccel(opts: { fresh?: boolean } = {}): Promise<AccelVerdict> {
  const forced = process.env.CLOGTEST_ACCEL;
  const kvmOpens = accel() === 'kvm';
  if ((forced !== undefined && forced !== '') || !kvmOpens) return decided(decideAccel({ forced, kvmOpens }));
  const cached = opts.fresh ? undefined : cachedVerdict();
  if (cached) return cached;
  const probe = await runProbe('kvm', join(cacheRoot(), 'accel-probe'));
  const verdict = decided(decideAccel({ kvmOpens, probe, deadlineMs: PROBE_DEADLINE_MS }));
  cacheVerdict(verdict);
  return verdict;
}

function decided(v: AccelVerdict | { error: string }): AccelVerdict {
  if ('error' in v) throw new InputError(v.error);
  return v;
}

/** A machine saved by Machine.save: its memory and device state, and its root overlay at that moment. */
export interface SavedMachine {
  state: string;
  overlay: string;
}

export interface MachineOptions {
  spec: Omit<QemuSpec, 'rootOverlay' | 'qmpSocket' | 'serialLog' | 'incomingState'>;
  /** Load this saved machine (paused: the caller lets it go with `cont`) instead of booting. */
  restore?: SavedMachine;
  /** Raw root image, shared read-only by every node through its overlay. */
  rootImage: string;
  /** This node's directory in the run directory. */
  dir: string;
  /** Deadline for QEMU to open its QMP socket and answer. */
  qmpDeadlineMs?: number;
  say?: Progress;
}

/** Last lines of a text file, for error messages; empty when it cannot be read. */
export function fileTail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export class Machine {
  private constructor(
    readonly node: number,
    readonly daemon: Daemon,
    readonly qmp: Qmp,
    readonly serialLog: string,
    readonly qemuLog: string,
    readonly rootOverlay: string,
    private readonly say: Progress,
  ) {}

  /** Creates the overlay and starts QEMU; resolves once QMP answers. */
  static async start(opts: MachineOptions): Promise<Machine> {
    const { dir, spec } = opts;
    const say = opts.say ?? progress;
    const label = `node${spec.node}`;
    const rootOverlay = join(dir, 'root.qcow2');
    const qmpSocket = join(dir, QMP_SOCKET);
    const serialLog = join(dir, 'serial.log');
    const qemuLog = join(dir, 'qemu.log');
    rmSync(qmpSocket, { force: true });
    // A restored guest's filesystem must find the disk as it was saved: its overlay is stacked on the saved one.
    const [backing, format] = opts.restore ? [opts.restore.overlay, 'qcow2'] : [opts.rootImage, 'raw'];
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', backing, '-F', format, rootOverlay], { timeoutMs: 30_000 });
    // QEMU runs in the node's directory and binds the socket by a relative name: a UNIX socket path
    // must stay under 108 bytes, and the run directory's depth is the user's (and a case's) to choose.
    const args = qemuArgs({ ...spec, rootOverlay, qmpSocket: QMP_SOCKET, serialLog, incomingState: opts.restore?.state });
    writeFileSync(join(dir, 'qemu.cmdline'), `${describeCommand(QEMU, args)}\n`);
    const daemon = startDaemon(QEMU, args, { logFile: qemuLog, cwd: dir });
    let qmp: Qmp;
    try {
      qmp = await connectQmp(qmpSocket, label, daemon, qemuLog, opts.qmpDeadlineMs ?? 10_000);
    } catch (err) {
      await daemon.stop(1000);
      throw err;
    }
    return new Machine(spec.node, daemon, qmp, serialLog, qemuLog, rootOverlay, say);
  }

  get pid(): number {
    return this.daemon.pid;
  }

  /** Why waiting on this machine is pointless: its QEMU exited (and what it said last). */
  private gone(): string | undefined {
    return this.daemon.hasExited() ? `QEMU exited\n${this.describeExit()}` : undefined;
  }

  /** Waits until a restored machine has loaded its state; it is then paused. */
  async loaded(deadlineMs: number): Promise<void> {
    await poll(`node${this.node}: QEMU loading its saved state`, deadlineMs, 50, async () => {
      const { status } = await this.qmp.queryStatus();
      if (status === 'inmigrate') return { done: false, seen: status };
      if (status !== 'paused') throw new GiveUp(`QEMU is ${status} after loading, not paused\n${this.describeExit()}`);
      return { done: true, value: undefined };
    }, () => this.gone());
  }

  /**
   * Saves the paused machine's memory and device state to stateFile, and a copy of its root overlay as it is
   * then (QEMU has flushed it) to overlayCopy. The machine stays paused and can go on with `cont`.
   */
  async save(to: SavedMachine, deadlineMs: number): Promise<void> {
    // The default bandwidth limit (128 MiB/s) would make a local file take seconds; most of the guest is zero pages.
    await this.qmp.execute('migrate-set-parameters', { 'max-bandwidth': 64 * 1024 ** 3 });
    await this.qmp.execute('migrate', { uri: `exec:cat > ${shellQuote(to.state)}` });
    await poll(`node${this.node}: QEMU saving its state to ${to.state}`, deadlineMs, 50, async () => {
      const r = await this.qmp.execute<{ status?: string; 'error-desc'?: string }>('query-migrate');
      if (r.status === 'failed') throw new GiveUp(`migration failed: ${r['error-desc'] ?? 'no reason given'}`);
      return r.status === 'completed' ? { done: true, value: undefined } : { done: false, seen: r.status ?? 'no status' };
    }, () => this.gone());
    copyFileSync(this.rootOverlay, to.overlay);
  }

  /** Whether QEMU exited within deadlineMs. */
  async waitExit(deadlineMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((r) => (timer = setTimeout(() => r(false), deadlineMs)));
    try {
      return await Promise.race([this.daemon.exited.then(() => true as const), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  hasExited(): boolean {
    return this.daemon.hasExited();
  }

  /** What QEMU and the guest console said last: for errors about this node. */
  describeExit(): string {
    const qemu = fileTail(this.qemuLog, 5);
    const serial = fileTail(this.serialLog, 10);
    // The panic reason sits above a stack trace longer than the tail.
    const panic = fileTail(this.serialLog, 200)
      .split('\n')
      .find((l) => /Kernel panic|BUG:|Oops/.test(l));
    const shown = panic && !serial.includes(panic) ? `${panic}\n...\n${serial}` : serial;
    return [qemu && `qemu.log:\n${qemu}`, shown && `serial console (${this.serialLog}):\n${shown}`].filter(Boolean).join('\n') || '(no output)';
  }

  /**
   * QMP quit with a deadline; if QEMU is still there after it, SIGTERM then SIGKILL
   * its process group by PID. Resolves true when it had to kill.
   */
  async shutdown(deadlineMs = 5000): Promise<boolean> {
    if (this.daemon.hasExited()) {
      this.qmp.close();
      return false;
    }
    let why = '';
    try {
      await this.qmp.quit(deadlineMs);
      const exited = await Promise.race([
        this.daemon.exited.then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), deadlineMs).unref()),
      ]);
      if (exited) {
        this.qmp.close();
        return false;
      }
      why = `still running ${deadlineMs / 1000}s after QMP quit`;
    } catch (err) {
      why = `QMP quit failed: ${errorMessage(err)}`;
    }
    this.qmp.close();
    const killed = await this.daemon.stop(2000);
    this.say(`node${this.node}: QEMU pid ${this.pid} ${why}; ${killed ? 'killed it with SIGKILL' : 'stopped it with SIGTERM'}`);
    return true;
  }
}

const QMP_SOCKET = 'qmp.sock';
/** sun_path holds 108 bytes with its NUL; a longer path is reached through the directory's descriptor. */
const MAX_SOCKET_PATH = 107;

/** Runs body with a path to the socket short enough for connect(): /proc/self/fd/N/NAME when the real one is not. */
async function withShortPath<T>(path: string, body: (short: string) => Promise<T>): Promise<T> {
  if (Buffer.byteLength(path) <= MAX_SOCKET_PATH) return body(path);
  const fd = openSync(dirname(path), 'r');
  try {
    return await body(`/proc/self/fd/${fd}/${basename(path)}`);
  } finally {
    closeSync(fd);
  }
}

/** QEMU creates the socket a moment after exec; retry until it answers, QEMU exits, or the deadline. */
function connectQmp(path: string, label: string, daemon: Daemon, qemuLog: string, deadlineMs: number): Promise<Qmp> {
  return withShortPath(path, (short) => connectQmpAt(short, path, label, daemon, qemuLog, deadlineMs));
}

async function connectQmpAt(short: string, path: string, label: string, daemon: Daemon, qemuLog: string, deadlineMs: number): Promise<Qmp> {
  const deadline = Date.now() + deadlineMs;
  const exited = () => (daemon.hasExited() ? `QEMU exited:\n${fileTail(qemuLog) || '(no output)'}` : undefined);
  return poll(`${label}: QEMU's QMP socket ${path}`, deadlineMs, 50, async () => {
    if (!existsSync(path)) return { done: false, seen: 'socket not created yet' };
    return { done: true, value: await Qmp.connect(short, { label, deadlineMs: Math.max(1000, deadline - Date.now()) }) };
  }, exited);
}

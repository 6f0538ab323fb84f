/** One cluster member as the rest of the harness sees it: its QEMU, its QMP, its SSH session. */
import { readFileSync } from 'node:fs';
import { DeadlineError, InfraError } from '../../base/errors.ts';
import { clusterIp } from '../../base/guest-contract.ts';
import { connectWithRetry, type ExecOptions, type ExecResult, type LineSession, type Ssh } from '../remote/ssh.ts';
import type { Machine } from '../vm/machine.ts';
import type { Qmp } from '../vm/qmp.ts';

export interface NodePorts {
  ssh: number;
  /** This node's UDP port on the hub segment. */
  cluster: number;
}

export class Node {
  /** Set once QEMU is up; undefined only during bring-up. */
  machine: Machine | undefined;
  private session: Ssh | undefined;
  /** Set by tear-down: a connection still being retried must not outlive the cluster. */
  private retired = false;

  constructor(
    readonly id: number,
    readonly dir: string,
    readonly ports: NodePorts,
    private readonly sshKeyPath: string,
  ) {}

  get name(): string {
    return `node${this.id}`;
  }

  /** Address on the cluster segment; corosync binds here. */
  get ip(): string {
    return clusterIp(this.id);
  }

  get qmp(): Qmp {
    if (!this.machine) throw new InfraError(`${this.name}: QEMU is not running`);
    return this.machine.qmp;
  }

  get ssh(): Ssh {
    if (!this.session) throw new InfraError(`${this.name}: no ssh session (the node has not finished booting)`);
    return this.session;
  }

  get hasSsh(): boolean {
    return this.session?.isOpen ?? false;
  }

  /** (Re)opens the SSH session, e.g. after a reset; gives up early if QEMU exits. */
  async connect(deadlineMs: number): Promise<Ssh> {
    this.disconnect();
    const machine = this.machine;
    let session: Ssh;
    try {
      session = await connectWithRetry({
        port: this.ports.ssh,
        privateKey: readFileSync(this.sshKeyPath),
        label: this.name,
        deadlineMs,
        abortIf: () => {
          if (this.retired) return 'the cluster is being torn down';
          return machine?.hasExited() ? `QEMU exited\n${machine.describeExit()}` : undefined;
        },
      });
    } catch (err) {
      // A guest that never answers usually said why on its console.
      if (err instanceof DeadlineError && machine) {
        throw new InfraError(`${err.message}\n${machine.describeExit()}`, { cause: err });
      }
      throw err;
    }
    if (this.retired) {
      session.close();
      throw new InfraError(`${this.name}: the cluster is being torn down`);
    }
    this.session = session;
    return session;
  }

  exec(cmd: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.ssh.exec(cmd, opts);
  }

  execOrThrow(cmd: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.ssh.execOrThrow(cmd, opts);
  }

  lines(cmd: string, timeoutMs: number): Promise<LineSession> {
    return this.ssh.lines(cmd, timeoutMs);
  }

  /** Closes the SSH session; connect() opens a new one. */
  disconnect(): void {
    this.session?.close();
    this.session = undefined;
  }

  /** Closes the SSH session for good; a connect() in flight gives up. */
  closeSsh(): void {
    this.retired = true;
    this.session?.close();
  }
}

/**
 * N QEMU guests on one hub segment sharing raw disk files, brought up to a quorate
 * corosync membership with cmirrord running on every node, and torn down in
 * reverse with the guests' logs pulled into the run directory first.
 */
import { appendFileSync, closeSync, copyFileSync, existsSync, ftruncateSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIMITS } from '../../case/schema.ts';
import { errorMessage, InfraError, InputError } from '../../base/errors.ts';
import { GUEST_LOG_DIR, LOG_RETRY_TIMEOUT_PARAM, sharedDiskPath } from '../../base/guest-contract.ts';
import type { CacheEntry } from '../../stack/cache.ts';
import { Hub } from '../net/hub.ts';
import { runsRoot, timestamp } from '../../base/paths.ts';
import { requireTools, run } from '../../base/proc.ts';
import { progress, stage, type Progress } from '../../base/progress.ts';
import { Scope } from '../../base/scope.ts';
import { chooseAccel, Machine, QEMU, type MachineOptions } from '../vm/machine.ts';
import type { Accel, SharedDisk } from '../vm/qemu-args.ts';
import { readClock, syncClock, type ClockReading } from './clock.ts';
import { corosyncConf, DEFAULT_TOKEN_MS, FORMATION_DEADLINE_MS, FORMATION_TOKEN_MS } from './corosync-conf.ts';
import { nodeDir, pulledLogsDir } from './node-dirs.ts';
import { awaitCmirrord, COROSYNC_OUT, launchCmirrord, reloadCorosync, restartCorosync, startCmirrord, startCorosync } from './daemons.ts';
import { Node } from './node.ts';
import { GiveUp, poll } from '../../base/poll.ts';
import { freePorts } from './ports.ts';
import { evictSavedClusters, findSavedCluster, saveOnce, savedClusterEntry, savedClusterKey, savedConsole, savedMachine } from './saved-cluster.ts';
import { describeQuorum, hasMembership, parseQuorumtool, type QuorumStatus } from './quorum.ts';

export interface SharedDiskSpec {
  serial: string;
  sizeMb: number;
}

/** Two mirror legs and a disk log (cmirrord wants at least 1 MiB of log device). */
export const DEFAULT_SHARED_DISKS: readonly SharedDiskSpec[] = [
  { serial: 'leg0', sizeMb: 64 },
  { serial: 'leg1', sizeMb: 64 },
  { serial: 'log', sizeMb: 4 },
];

export interface Deadlines {
  /** QEMU started and answering QMP. */
  qemu: number;
  /** From QEMU start to sshd answering, i.e. the whole guest boot. */
  ssh: number;
  /** From the last sshd answering to a full quorate membership on every node. */
  quorum: number;
  /** cmirrord running on every node. */
  daemon: number;
  /** Each remote command of the bring-up and tear-down. */
  command: number;
}

export const DEFAULT_DEADLINES: Deadlines = { qemu: 15_000, ssh: 90_000, quorum: 60_000, daemon: 20_000, command: 20_000 };

/**
 * The quorum deadline for a cluster of `nodes`: the default up to three, and 20 s more for each node beyond.
 * Under TCG every guest shares the host's cores, so a larger membership forms more slowly: eight guests
 * with the coverage kernel were seen to need more than 60 s.
 */
export function quorumDeadlineMs(nodes: number): number {
  return DEFAULT_DEADLINES.quorum + 20_000 * Math.max(0, nodes - 3);
}

export interface ClusterOptions {
  /** Names the run directory and the corosync cluster. */
  name: string;
  /** LIMITS.nodes (2..8), default 3. */
  nodes?: number;
  bzImage: string;
  rootImage: string;
  /** Private key that logs in as root on the image. */
  sshKey: string;
  /** Default: chooseAccel(), which says on the progress line what it chose and why. */
  accel?: Accel;
  cpus?: number;
  memoryMb?: number;
  kernelArgs?: readonly string[];
  sharedDisks?: readonly SharedDiskSpec[];
  /** corosync totem token timeout, ms. */
  tokenMs?: number;
  /**
   * dm-log-userspace's resend timeout, ms (whole seconds), set on every node once it is up and on each
   * node brought back; unset leaves the kernel's 15 s. Set after boot, so a saved cluster serves any value.
   */
  logRetryTimeoutMs?: number;
  /** Seed of the hub's loss RNG. */
  seed?: number;
  /** Keep the shared disk files after stop(). */
  keepDisks?: boolean;
  /** Where the cluster's directory <time>-<name> goes; default runsRoot(). A case puts it in its own. */
  parentDir?: string;
  /** Bring-up ends once corosync is quorate: cmirrord is not started. */
  noDaemon?: boolean;
  /** Boot every node even when a saved cluster of the same key could be restored (and save none). */
  coldBoot?: boolean;
  deadlines?: Partial<Deadlines>;
  say?: Progress;
}

export interface Timings {
  /** QEMU started; when restored, also its saved state loaded and every node let go. */
  qemu: number;
  ssh: number;
  quorum: number;
  daemon: number;
  total: number;
  /** The saved cluster this one was restored from. */
  restoredFrom?: string;
  /** Saving this cluster for the next runs (after `total`, not part of it). */
  save?: number;
}

/**
 * After the harness closes its ssh sessions, how long the guests get to end them before they are saved: a
 * restored guest then holds no half-closed connection of a run long gone.
 */
const SAVE_SETTLE_MS = 500;
const CMIRRORD_RUNNING = 'cmirrord running';

export const MIN_NODES = LIMITS.nodes.min;
export const MAX_NODES = LIMITS.nodes.max;

/** Why polling node n is pointless: its QEMU exited or its SSH session is gone. */
function nodeGone(n: Node): string | undefined {
  if (n.machine?.hasExited()) return `QEMU exited\n${n.machine.describeExit()}`;
  if (!n.hasSsh) return 'ssh connection lost';
  return undefined;
}

export class Cluster {
  readonly nodes: Node[] = [];
  readonly disks: Array<SharedDisk & { sizeMb: number }> = [];
  /** Every guest clock reading since boot, oldest first: what bounds the ordering of events across nodes. */
  readonly clocks: ClockReading[] = [];
  private network: Hub | undefined;
  timings: Timings | undefined;
  private logsCollected = false;
  /** Silent: stop() returns its failures and the caller's scope reports them once. */
  private readonly own = new Scope(() => {});
  private readonly deadlines: Deadlines;
  private readonly say: Progress;

  private constructor(
    readonly opts: ClusterOptions,
    readonly runDir: string,
    readonly accel: Accel,
  ) {
    this.deadlines = { ...DEFAULT_DEADLINES, quorum: quorumDeadlineMs(opts.nodes ?? 3), ...opts.deadlines };
    this.say = opts.say ?? progress;
  }

  /**
   * Brings the cluster up. The tear-down is registered on scope before anything is
   * set up, so a failure half-way still collects logs and stops every QEMU.
   */
  static async start(opts: ClusterOptions, scope: Scope): Promise<Cluster> {
    const count = opts.nodes ?? 3;
    if (!Number.isInteger(count) || count < MIN_NODES || count > MAX_NODES) {
      throw new InputError(`a cluster has ${MIN_NODES} to ${MAX_NODES} nodes, got ${count}`);
    }
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(opts.name)) {
      throw new InputError(`cluster name "${opts.name}" must be 1-32 characters of letters, digits, - and _`);
    }
    for (const [what, path] of [
      ['kernel', opts.bzImage],
      ['root image', opts.rootImage],
      ['ssh key', opts.sshKey],
    ] as const) {
      if (!existsSync(path)) throw new InputError(`${what} ${path} does not exist`);
    }
    requireTools(QEMU, 'qemu-img', 'tar');
    const say = opts.say ?? progress;
    let accel = opts.accel;
    if (!accel) {
      const chosen = await chooseAccel();
      say(`accelerator: ${chosen.accel} (${chosen.why})`);
      accel = chosen.accel;
    } else say(`accelerator: ${accel} (asked for)`);
    const warning = tcgTimingWarning(accel, opts);
    if (warning) say(`warning: ${warning}`);
    const runDir = makeRunDir(opts.parentDir ?? runsRoot(), opts.name);
    const cluster = new Cluster(opts, runDir, accel);
    scope.defer(`stop cluster ${opts.name}`, async () => {
      const failures = await cluster.stop();
      if (failures.length) throw new InfraError(failures.join('; '));
    });
    await cluster.bringUp(count);
    return cluster;
  }

  node(i: number): Node {
    const n = this.nodes.find((x) => x.id === i);
    if (!n) throw new InputError(`no node ${i} (nodes: ${this.nodes.map((x) => x.id).join(', ')})`);
    return n;
  }

  /** The cluster segment and its fault injector. */
  get hub(): Hub {
    if (!this.network) throw new InfraError(`cluster ${this.opts.name}: the hub is not running`);
    return this.network;
  }

  get size(): number {
    return this.nodes.length;
  }

  private async bringUp(count: number): Promise<void> {
    const t0 = Date.now();
    const ids = Array.from({ length: count }, (_, i) => i + 1);

    const disks = this.opts.sharedDisks ?? DEFAULT_SHARED_DISKS;
    this.own.defer('remove shared disks', () => {
      if (!this.opts.keepDisks) for (const d of this.disks) rmSync(d.file, { force: true });
    });
    for (const d of disks) {
      if (!(Number.isInteger(d.sizeMb) && d.sizeMb > 0)) throw new InputError(`shared disk ${d.serial}: size must be a positive whole number of MiB`);
    }
    mkdirSync(join(this.runDir, 'disks'));
    for (const d of disks) {
      const file = join(this.runDir, 'disks', `${d.serial}.img`);
      this.disks.push({ serial: d.serial, file, sizeMb: d.sizeMb });
      const fd = openSync(file, 'wx');
      try {
        ftruncateSync(fd, d.sizeMb * 1024 * 1024);
      } finally {
        closeSync(fd);
      }
    }

    this.own.defer('stop hub', async () => {
      if (!this.network) return;
      writeFileSync(join(this.runDir, 'hub.json'), `${JSON.stringify(this.network.counters(), null, 2)}\n`);
      await this.network.close();
    });
    this.network = await Hub.start({ seed: this.opts.seed });
    const [sshPorts, clusterPorts] = [await freePorts('tcp', count), await freePorts('udp', count)];
    for (const [i, id] of ids.entries()) {
      const dir = nodeDir(this.runDir, id);
      mkdirSync(dir);
      const node = new Node(id, dir, { ssh: sshPorts[i]!, cluster: clusterPorts[i]! }, this.opts.sshKey);
      this.nodes.push(node);
      this.hub.addNode(id, node.ports.cluster);
      this.own.defer(`stop ${node.name}`, async () => {
        node.closeSsh();
        await node.machine?.shutdown();
      });
    }
    this.own.defer('collect guest logs', () => this.collectLogs());
    this.writeDescription();

    const key = this.opts.coldBoot ? undefined : await this.savedKey();
    const saved = key === undefined ? undefined : findSavedCluster(key);
    this.timings = saved ? await this.restore(saved, ids, t0) : await this.boot(ids, t0);
    if (key !== undefined && !saved) this.timings.save = await saveOnce(key, () => this.save(key));
    await Promise.all(this.nodes.map((n) => this.setLogRetryTimeout(n)));
    writeFileSync(join(this.runDir, 'timings.json'), `${JSON.stringify(this.timings, null, 2)}\n`);
    const how = saved ? `restored from saved cluster ${saved.key}` : 'booted';
    this.say(`cluster ${this.opts.name} ready: ${count} nodes ${how} in ${(this.timings.total / 1000).toFixed(1)}s, run dir ${this.runDir}`);
  }

  /** Boots every node and brings corosync and cmirrord up on them. */
  private async boot(ids: readonly number[], t0: number): Promise<Timings> {
    const { deadlines } = this;
    const count = ids.length;
    await stage(`booting ${count} nodes (${this.accel})`, async () => {
      // Settle every start before failing, so each QEMU that did start is known to the tear-down.
      await allSettledOrThrow(this.nodes.map((n) => this.bootMachine(n, deadlines.qemu)));
    }, this.say);
    this.writeDescription();
    const tQemu = Date.now();

    const tokenMs = this.opts.tokenMs ?? DEFAULT_TOKEN_MS;
    const formationTokenMs = Math.min(tokenMs, FORMATION_TOKEN_MS);
    const conf = this.corosyncConf(formationTokenMs);
    // Each node starts corosync as soon as its own sshd answers: under TCG the guests
    // boot seconds apart, and corosync's joining overlaps the slower boots.
    let tSsh = 0;
    const cmirrordBefore = new Map<Node, number>();
    await stage(`waiting for sshd and starting corosync${this.opts.noDaemon ? '' : ' and cmirrord'} on every node`, async () => {
      let waiting = count;
      await Promise.all(
        this.nodes.map(async (n) => {
          await n.connect(deadlines.ssh);
          if (--waiting === 0) tSsh = Date.now();
          // corosync first: its totem timers run on the monotonic clock, so setting the wall clock after
          // it started changes nothing for it, and the clock's round trips overlap the membership forming.
          await startCorosync(n, conf, deadlines.command);
          if (!this.opts.noDaemon) cmirrordBefore.set(n, await launchCmirrord(n, deadlines.command));
          await this.syncClock(n);
        }),
      );
    }, this.say);
    await stage(`waiting for a quorate membership of ${count} on every node`, () => this.formMembership(ids, formationTokenMs, tokenMs), this.say);
    const tQuorum = Date.now();

    if (!this.opts.noDaemon) {
      await stage('waiting for cmirrord', async () => {
        await Promise.all(this.nodes.map((n) => awaitCmirrord(n, cmirrordBefore.get(n) ?? 0, deadlines.daemon, deadlines.command, () => nodeGone(n))));
      }, this.say);
    }
    const tDaemon = Date.now();
    return { qemu: tQemu - t0, ssh: tSsh - tQemu, quorum: tQuorum - tSsh, daemon: tDaemon - tQuorum, total: tDaemon - t0 };
  }

  /** The key of the saved cluster this bring-up would produce. */
  private savedKey(): Promise<string> {
    return savedClusterKey({
      machines: this.nodes.map((n) => this.machineSpec(n)),
      rootImage: this.opts.rootImage,
      disks: this.disks,
      corosyncConf: this.corosyncConf(),
      daemon: !this.opts.noDaemon,
    });
  }

  /**
   * Loads every node's saved state (paused), lets them all go at once, and checks what the saved cluster
   * promised: each node quorate with all the others and cmirrord running. Each node's clock is set as at boot,
   * and its page cache of the shared disks dropped: they are this run's disks, not the ones it was saved with.
   */
  private async restore(saved: CacheEntry, ids: readonly number[], t0: number): Promise<Timings> {
    const { deadlines } = this;
    const count = ids.length;
    await stage(`restoring ${count} nodes from saved cluster ${saved.key} (${this.accel})`, async () => {
      await allSettledOrThrow(this.nodes.map((n) => this.bootMachine(n, deadlines.qemu, saved.dir)));
      await Promise.all(this.nodes.map((n) => n.machine!.loaded(deadlines.qemu)));
      await this.thaw();
    }, this.say);
    const tQemu = Date.now();
    await stage('connecting to every node', () => Promise.all(this.nodes.map((n) => n.connect(deadlines.ssh))), this.say);
    const tSsh = Date.now();
    // One guest command per node says whether the saved cluster is what it should be; only when it is not
    // do the bring-up's waits run, for their deadlines and their messages.
    // A failed page-cache drop fails the command (and the bring-up): the guest could read the saved run's disks.
    const check = `blockdev --flushbufs ${this.disks.map((d) => sharedDiskPath(d.serial)).join(' ')} || exit 1; corosync-quorumtool -s; pidof cmirrord >/dev/null && echo '${CMIRRORD_RUNNING}'; true`;
    let tQuorum = 0;
    await stage(`checking the quorate membership of ${count}${this.opts.noDaemon ? '' : ' and cmirrord'} on every node`, async () => {
      await Promise.all(
        this.nodes.map(async (n) => {
          const [, r] = await Promise.all([this.syncClock(n), n.execOrThrow(check, { timeoutMs: deadlines.command })]);
          if (!hasMembership(parseQuorumtool(r.stdout), ids)) await this.waitQuorate(n, ids, deadlines.quorum);
          tQuorum = Math.max(tQuorum, Date.now());
          if (!this.opts.noDaemon && !r.stdout.includes(CMIRRORD_RUNNING)) await awaitCmirrord(n, 0, deadlines.daemon, deadlines.command, () => nodeGone(n));
        }),
      );
    }, this.say);
    const tDaemon = Date.now();
    return { qemu: tQemu - t0, ssh: tSsh - tQemu, quorum: tQuorum - tSsh, daemon: tDaemon - tQuorum, total: tDaemon - t0, restoredFrom: saved.key };
  }

  /**
   * Saves the ready cluster under key for the next bring-ups, and goes on with it: the harness's ssh sessions
   * are closed, every guest paused at once and saved, then let go and reconnected. A failed save is reported
   * and costs only its time. Returns how long it took.
   */
  private async save(key: string): Promise<number> {
    const t0 = Date.now();
    const entry = savedClusterEntry(key);
    const staging = entry.stage();
    for (const n of this.nodes) n.disconnect();
    await new Promise((r) => setTimeout(r, SAVE_SETTLE_MS));
    try {
      await stage(`saving the cluster as ${key} for the next runs`, async () => {
        await this.freeze();
        await Promise.all(this.nodes.map((n) => n.machine!.save(savedMachine(staging, n.id), this.deadlines.qemu)));
        for (const n of this.nodes) copyFileSync(n.machine!.serialLog, savedConsole(staging, n.id));
        entry.publish(staging, { nodes: this.nodes.length, accel: this.accel, savedFrom: this.runDir }, t0);
        evictSavedClusters();
      }, this.say);
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      this.say(`warning: the cluster was not saved (${errorMessage(err).split('\n')[0]}); the next run boots again`);
    } finally {
      await this.thaw();
      await Promise.all(this.nodes.map((n) => n.connect(this.deadlines.ssh)));
    }
    return Date.now() - t0;
  }

  /**
   * Waits for the first quorate membership, formed with formationTokenMs, and gives the cluster the case's
   * token; if it does not form in FORMATION_DEADLINE_MS, starts corosync again everywhere with the case's token.
   */
  private async formMembership(ids: readonly number[], formationTokenMs: number, tokenMs: number): Promise<void> {
    const { quorum, command } = this.deadlines;
    const waitAll = (ms: number) => Promise.all(this.nodes.map((n) => this.waitQuorate(n, ids, ms)));
    if (formationTokenMs === tokenMs) {
      await waitAll(quorum);
      return;
    }
    try {
      await waitAll(Math.min(quorum, FORMATION_DEADLINE_MS));
    } catch (err) {
      this.say(`no quorate membership with a ${formationTokenMs} ms token in ${FORMATION_DEADLINE_MS / 1000}s (${errorMessage(err).split('\n')[0]}): starting corosync again with ${tokenMs} ms`);
      await Promise.all(this.nodes.map((n) => restartCorosync(n, this.corosyncConf(), command)));
      await waitAll(quorum);
      return;
    }
    await reloadCorosync(this.nodes, this.corosyncConf(), tokenMs, quorum, command);
  }

  /** The cluster's corosync.conf; tokenMs only while the membership first forms. */
  private corosyncConf(tokenMs = this.opts.tokenMs): string {
    return corosyncConf({ clusterName: this.opts.name, nodes: this.nodes.map((n) => ({ id: n.id, ip: n.ip })), tokenMs });
  }

  /**
   * Starts node n's QEMU, booting it or (savedDir) loading its saved state; a crashed node's earlier console
   * is kept as serial-crashed-N.log. A restored node's console starts with the saved boot's.
   */
  private async bootMachine(n: Node, qmpDeadlineMs: number, savedDir?: string): Promise<void> {
    const serial = join(n.dir, 'serial.log');
    if (existsSync(serial)) {
      let i = 1;
      while (existsSync(join(n.dir, `serial-crashed-${i}.log`))) i++;
      renameSync(serial, join(n.dir, `serial-crashed-${i}.log`));
    }
    if (savedDir) {
      copyFileSync(savedConsole(savedDir, n.id), serial);
      appendFileSync(serial, `\n[clogtest: restored from the saved cluster in ${savedDir} at ${new Date().toISOString()}]\n`);
    }
    n.machine = await Machine.start({
      rootImage: this.opts.rootImage,
      dir: n.dir,
      qmpDeadlineMs,
      say: this.say,
      spec: this.machineSpec(n),
      ...(savedDir ? { restore: savedMachine(savedDir, n.id) } : {}),
    });
  }

  private machineSpec(n: Node): MachineOptions['spec'] {
    return {
      node: n.id,
      accel: this.accel,
      cpus: this.opts.cpus,
      memoryMb: this.opts.memoryMb,
      kernel: this.opts.bzImage,
      kernelArgs: this.opts.kernelArgs,
      sharedDisks: this.disks,
      sshPort: n.ports.ssh,
      hubPort: this.hub.port,
      clusterPort: n.ports.cluster,
    };
  }

  /**
   * Brings crashed (QEMU gone) or reset nodes back into the cluster, all at once: boots those whose QEMU is
   * gone (with a fresh root overlay, as a replaced machine would have), reconnects, sets each clock to a live
   * peer's (the host's when none is left), starts corosync on all of them together and waits until each sees
   * a quorate membership of `live` plus them, then starts cmirrord. Loading the mirrors is the caller's.
   */
  async rejoin(nodes: readonly Node[], live: readonly number[], deadlineMs: number): Promise<void> {
    const { command } = this.deadlines;
    const peer = this.nodes.find((x) => live.includes(x.id) && !nodes.includes(x) && x.hasSsh);
    await Promise.all(
      nodes.map(async (n) => {
        if (!n.machine || n.machine.hasExited()) await this.bootMachine(n, Math.min(deadlineMs, this.deadlines.qemu));
        await n.connect(deadlineMs);
        await this.setLogRetryTimeout(n);
        await this.syncClock(n, peer);
        // A fresh overlay lost the corosync.conf of the bring-up; a reset one still has it.
        await startCorosync(n, this.corosyncConf(), command);
      }),
    );
    this.writeDescription();
    const members = [...new Set([...live, ...nodes.map((n) => n.id)])].sort((a, b) => a - b);
    await Promise.all(nodes.map((n) => this.waitQuorate(n, members, deadlineMs)));
    await Promise.all(nodes.map((n) => startCmirrord(n, this.deadlines.daemon, command, () => nodeGone(n))));
  }

  private async setLogRetryTimeout(n: Node): Promise<void> {
    const ms = this.opts.logRetryTimeoutMs;
    if (ms === undefined) return;
    const r = await n.exec(`echo ${Math.round(ms / 1000)} > ${LOG_RETRY_TIMEOUT_PARAM}`, { timeoutMs: this.deadlines.command });
    if (r.code !== 0)
      throw new InfraError(`${n.name}: cannot set ${LOG_RETRY_TIMEOUT_PARAM} (a kernel without kernel-patches/dm-log-userspace-retry-timeout-param.patch?): ${r.stderr.trim()}`);
  }

  /**
   * Sets n's wall clock: to the host's at boot; for a node brought back while others run, to the time of a
   * live peer, whose clock has stood still with every freeze of the cluster. The readings are kept in clocks.
   */
  async syncClock(n: Node, peer?: Node): Promise<ClockReading> {
    const batch = peer ? `rejoin of ${n.name} ${this.clocks.length}` : 'boot';
    const target = peer ? await readClock(peer, this.deadlines.command, batch) : undefined;
    const r = await syncClock(n, this.deadlines.command, batch, target?.offsetNs ?? 0);
    this.clocks.push(...(target ? [target] : []), r);
    return r;
  }

  /** Reads the clocks of the given nodes together, to bound how far they drifted apart; kept in clocks. */
  async readClocks(nodes: readonly Node[], batch: string): Promise<ClockReading[]> {
    const rs = await Promise.all(nodes.map((n) => readClock(n, this.deadlines.command, batch)));
    this.clocks.push(...rs);
    return rs;
  }

  /** Quorate membership of exactly ids, as node n sees it. */
  waitQuorate(n: Node, ids: readonly number[], deadlineMs: number, cancelled: () => string | undefined = () => undefined): Promise<QuorumStatus> {
    return this.waitMembership(n, ids, true, deadlineMs, cancelled);
  }

  /** Until node n sees exactly members and is quorate or not as given (after a partition, say). */
  waitMembership(n: Node, members: readonly number[], quorate: boolean, deadlineMs: number, cancelled: () => string | undefined = () => undefined): Promise<QuorumStatus> {
    const awaited = `${n.name}: ${quorate ? 'quorate' : 'non-quorate'} corosync membership of nodes ${members.join(',')}`;
    return poll(awaited, deadlineMs, 500, async () => {
      const r = await n.exec('corosync-quorumtool -s', { timeoutMs: this.deadlines.command });
      const status = parseQuorumtool(r.stdout);
      if (hasMembership(status, members, quorate)) return { done: true, value: status };
      if (r.stdout.trim()) return { done: false, seen: describeQuorum(status) };
      const out = COROSYNC_OUT;
      const alive = await n.exec(`pgrep -x corosync >/dev/null || tail -n 5 ${out}`, { timeoutMs: this.deadlines.command });
      if (alive.code !== 0 || alive.stdout.trim()) throw new GiveUp(`corosync is not running; ${out} ends:\n${alive.stdout.trim() || '(empty)'}`);
      return { done: false, seen: `corosync-quorumtool exited ${r.code}: ${r.stderr.trim().split('\n').pop() || '(no output)'}` };
    }, () => nodeGone(n) ?? cancelled());
  }

  /** Pauses every guest at once (QMP stop), in parallel so they stop as close together as possible. */
  async freeze(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.qmp.stop()));
  }

  async thaw(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.qmp.cont()));
  }

  /**
   * Collects logs, stops every QEMU, the hub, and removes the shared disks unless
   * keepDisks. Idempotent; returns the clean-up failures rather than throwing, so
   * it never hides the error that led here.
   */
  stop(): Promise<string[]> {
    return this.own.close();
  }

  /** Static facts about the run, for `clogtest ssh` and for reading a run directory later. */
  private writeDescription(): void {
    const description = {
      name: this.opts.name,
      accel: this.accel,
      hubPort: this.network?.port,
      bzImage: this.opts.bzImage,
      rootImage: this.opts.rootImage,
      sshKey: this.opts.sshKey,
      disks: this.disks,
      nodes: this.nodes.map((n) => ({ id: n.id, ip: n.ip, sshPort: n.ports.ssh, clusterPort: n.ports.cluster, pid: n.machine?.pid })),
    };
    writeFileSync(join(this.runDir, 'cluster.json'), `${JSON.stringify(description, null, 2)}\n`);
  }

  /**
   * Pulls GUEST_LOG_DIR and dmesg of every reachable node into nodeN/guest/, once: the tear-down does it
   * unless a caller did it already (a case that ends with its guests frozen does it before the freeze).
   * A frozen guest is thawed first, or every command would run into its deadline.
   */
  async collectLogs(): Promise<void> {
    if (this.logsCollected) return;
    this.logsCollected = true;
    // A guest whose QEMU is gone (crashed on purpose, or died) left only its console, already on the host.
    const running = this.nodes.filter((n) => n.machine && !n.machine.hasExited());
    await Promise.allSettled(running.map((n) => n.qmp.cont(2000)));
    const results = await Promise.allSettled(running.map((n) => this.collectNodeLogs(n)));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${running[i]!.name}: ${errorMessage(r.reason)}`] : []));
    if (failed.length) throw new InfraError(`guest logs not collected from ${failed.join('; ')}`);
  }

  private async collectNodeLogs(n: Node): Promise<void> {
    if (!n.hasSsh) throw new InfraError(`no ssh session (console: ${join(n.dir, 'serial.log')})`);
    const timeoutMs = this.deadlines.command;
    const archive = '/tmp/clogtest-logs.tgz';
    await n.execOrThrow(
      // GNU tar exits 1 when a file changed as it read it (a daemon still logging): the archive is still good.
      `mkdir -p ${GUEST_LOG_DIR} && dmesg > ${GUEST_LOG_DIR}/dmesg.txt 2>&1; tar -C ${GUEST_LOG_DIR} -czf ${archive} .; [ $? -le 1 ]`,
      { timeoutMs },
    );
    const local = join(n.dir, 'guest-logs.tgz');
    await n.ssh.download(archive, local, { timeoutMs });
    const dest = pulledLogsDir(n.dir);
    mkdirSync(dest, { recursive: true });
    await run('tar', ['-xzf', local, '-C', dest], { timeoutMs });
    rmSync(local, { force: true });
  }
}

/** Like Promise.all, but throws the first failure only once every promise has settled. */
async function allSettledOrThrow(promises: Array<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Timeouts that suit KVM make a TCG cluster look broken: a guest starved of CPU misses
 * corosync tokens and is dropped, and every such run reports membership changes nobody caused.
 */
export function tcgTimingWarning(accel: Accel, opts: Pick<ClusterOptions, 'tokenMs' | 'deadlines'>): string | undefined {
  if (accel !== 'tcg') return undefined;
  const tuned: string[] = [];
  if (opts.tokenMs !== undefined && opts.tokenMs < DEFAULT_TOKEN_MS) tuned.push(`corosync token ${opts.tokenMs} ms (TCG default ${DEFAULT_TOKEN_MS})`);
  for (const [phase, ms] of Object.entries(opts.deadlines ?? {})) {
    const fallback = DEFAULT_DEADLINES[phase as keyof Deadlines];
    if (ms !== undefined && ms < fallback) tuned.push(`${phase} deadline ${ms} ms (TCG default ${fallback})`);
  }
  return tuned.length ? `running under TCG with timeouts tuned for KVM: ${tuned.join(', ')}; expect spurious failures` : undefined;
}

function makeRunDir(root: string, name: string): string {
  mkdirSync(root, { recursive: true });
  const base = join(root, `${timestamp()}-${name}`);
  for (let i = 0; ; i++) {
    const dir = i === 0 ? base : `${base}.${i}`;
    try {
      mkdirSync(dir);
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || i > 100) throw err;
    }
  }
}

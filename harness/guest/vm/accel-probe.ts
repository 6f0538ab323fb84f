/**
 * Which accelerator guests get, decided by running guest code. An openable /dev/kvm proves little: on
 * hosts with half-working nested virtualisation KVM creates a VM and then runs it so slowly that a
 * guest kernel needs 90 s for what takes it 0.1 s elsewhere. So the probe boots a 512-byte boot
 * sector under `-accel kvm -cpu host` (the guests' own settings) that spins a few million times and
 * writes to isa-debug-exit; a guest that gets there within the deadline means KVM works.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from '../../base/paths.ts';
import { run } from '../../base/proc.ts';
import type { Accel } from './qemu-args.ts';

/** The guest writes this to the debug-exit port; QEMU then exits with (value << 1) | 1. */
const EXIT_VALUE = 0x31;
export const PROBE_EXIT_CODE = (EXIT_VALUE << 1) | 1;
const DEBUG_EXIT_PORT = 0xf4;

/** Where KVM works, BIOS and boot sector take about 0.2 s; where it does not, tens of seconds. */
export const PROBE_DEADLINE_MS = 5_000;

/**
 * A boot sector (16-bit real mode, loaded at 0x7c00 by the BIOS): count ecx down from 2^24, then
 * `out 0xf4, al` with al = EXIT_VALUE, then halt. `spin` leaves out the exit: a guest that never
 * reaches its line, to show the timeout path on a host whose KVM works.
 */
export function probeBootSector(opts: { reachesExit?: boolean } = {}): Buffer {
  const reachesExit = opts.reachesExit ?? true;
  const code = [
    0x66, 0xb9, 0x00, 0x00, 0x00, 0x01, // mov ecx, 0x01000000
    0x66, 0x49, //                         dec ecx
    0x75, 0xfc, //                         jnz dec
    ...(reachesExit ? [0xb0, EXIT_VALUE, 0xe6, DEBUG_EXIT_PORT] : []), // mov al, EXIT_VALUE; out DEBUG_EXIT_PORT, al
    0xf4, //                               hlt
    0xeb, 0xfd, //                         jmp hlt
  ];
  const sector = Buffer.alloc(512);
  Buffer.from(code).copy(sector);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

/** QEMU's arguments for the probe guest: nothing but the boot disk and the exit port. */
export function probeArgs(accel: Accel, bootImage: string): string[] {
  return [
    '-nodefaults', '-no-user-config', '-display', 'none', '-machine', 'pc',
    '-accel', accel, '-cpu', accel === 'kvm' ? 'host' : 'max', '-m', '16',
    '-drive', `file=${bootImage},format=raw,if=ide,index=0,media=disk,snapshot=on`,
    '-device', `isa-debug-exit,iobase=0x${DEBUG_EXIT_PORT.toString(16)},iosize=0x04`,
  ];
}

/** What became of one probe guest. */
export type ProbeOutcome =
  | { kind: 'reached'; ms: number }
  | { kind: 'timed-out'; ms: number }
  | { kind: 'failed'; ms: number; exitCode: number; stderr: string };

export interface AccelVerdict {
  accel: Accel;
  why: string;
}

/**
 * The decision (pure). CLOGTEST_ACCEL decides when set; without a /dev/kvm that opens, TCG; else the
 * probe guest under KVM decides.
 */
export function decideAccel(i: { forced?: string; kvmOpens: boolean; probe?: ProbeOutcome; deadlineMs?: number }): AccelVerdict | { error: string } {
  if (i.forced !== undefined && i.forced !== '') {
    if (i.forced !== 'kvm' && i.forced !== 'tcg') return { error: `CLOGTEST_ACCEL must be kvm or tcg, got "${i.forced}"` };
    return { accel: i.forced, why: `CLOGTEST_ACCEL=${i.forced}` };
  }
  if (!i.kvmOpens) return { accel: 'tcg', why: '/dev/kvm is missing or cannot be opened' };
  const p = i.probe;
  if (p === undefined) return { error: 'decideAccel: /dev/kvm opens but no probe outcome was given' };
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  if (p.kind === 'reached') return { accel: 'kvm', why: `a test guest under KVM ran to its exit in ${secs(p.ms)}` };
  if (p.kind === 'timed-out') {
    return { accel: 'tcg', why: `KVM opens but a test guest did not reach its exit in ${secs(i.deadlineMs ?? p.ms)} (KVM too slow or stuck here)` };
  }
  const said = p.stderr.trim().split('\n')[0] || `exit ${p.exitCode}`;
  return { accel: 'tcg', why: `KVM opens but QEMU could not run a test guest under it (${said})` };
}

/** Boots the probe guest once under `accel` and says what became of it within `deadlineMs`. */
export async function runProbe(accel: Accel, dir: string, opts: { deadlineMs?: number; reachesExit?: boolean } = {}): Promise<ProbeOutcome> {
  const deadlineMs = opts.deadlineMs ?? PROBE_DEADLINE_MS;
  mkdirSync(dir, { recursive: true });
  const image = join(dir, opts.reachesExit === false ? 'probe-spin.img' : 'probe.img');
  writeFileSync(image, probeBootSector(opts));
  const started = Date.now();
  const r = await run('qemu-system-x86_64', probeArgs(accel, image), { timeoutMs: deadlineMs, allowFailure: true });
  const ms = Date.now() - started;
  if (r.timedOut) return { kind: 'timed-out', ms };
  if (r.exitCode === PROBE_EXIT_CODE) return { kind: 'reached', ms };
  return { kind: 'failed', ms, exitCode: r.exitCode, stderr: r.stderr };
}

/** The host's boot: a verdict holds until the host reboots (or its KVM module is reloaded, which needs root anyway). */
export function hostBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

interface CachedVerdict extends AccelVerdict {
  bootId: string;
  probedAt: string;
}

function verdictFile(): string {
  return join(cacheRoot(), 'accel-probe.json');
}

/** The verdict probed earlier in this host boot, if any. */
export function cachedVerdict(bootId = hostBootId()): AccelVerdict | undefined {
  const file = verdictFile();
  if (!existsSync(file)) return undefined;
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as CachedVerdict;
    if (c.bootId !== bootId || (c.accel !== 'kvm' && c.accel !== 'tcg') || typeof c.why !== 'string') return undefined;
    return { accel: c.accel, why: `${c.why}; probed ${c.probedAt}, this host boot` };
  } catch {
    return undefined;
  }
}

export function cacheVerdict(v: AccelVerdict, bootId = hostBootId()): void {
  mkdirSync(cacheRoot(), { recursive: true });
  const c: CachedVerdict = { ...v, bootId, probedAt: new Date().toISOString() };
  writeFileSync(verdictFile(), `${JSON.stringify(c, null, 2)}\n`);
}

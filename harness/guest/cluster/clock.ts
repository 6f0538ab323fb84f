/**
 * Guest clocks. A guest's kernel sets its wall clock from the emulated RTC at boot, which counts whole
 * seconds, so guests that booted apart disagree by up to a second; writers stamp their logs with that
 * clock and the checks order writes from different nodes by it. So each guest's clock is set from the
 * host's once its sshd answers, and readings taken together (a batch) record how far apart the guests
 * still are. The checks treat two events on different nodes as concurrent when they are closer than that.
 *
 * A guest's clock stands still while QEMU is stopped (its TSC follows QEMU's virtual clock). Freezes of
 * the whole cluster stop every guest together, so they shift all clocks alike and do not count as skew;
 * only readings of one batch are compared with each other.
 */
import { CLOCK_MARK, CLOCK_MARK_END, CLOCK_SET } from '../../oracle/kernel-clock.ts';
import type { LineSession } from '../remote/ssh.ts';

export interface ClockReading {
  node: number;
  /** Guest clock minus host clock, in ns, as measured. */
  offsetNs: number;
  /** The measurement's own uncertainty: half the round trip of the probe it came from. */
  errorNs: number;
  /** Host wall clock of the reading, ms since the epoch. */
  at: number;
  /** Readings taken together, e.g. "boot" or "end": only these are compared with each other. */
  batch: string;
}

export interface ClockProbe {
  /** Host wall clock just before the command was sent and just after its answer arrived, in ns. */
  sentNs: number;
  answeredNs: number;
  /** What the guest's `date +%s%N` printed, in ns. */
  guestNs: number;
}

/** Anything that runs a shell command on a guest: a Node. */
export interface Shell {
  readonly id: number;
  readonly name: string;
  lines(cmd: string, timeoutMs: number): Promise<LineSession>;
}

/**
 * The guest side of a clock session: one shell on one channel that runs each line it reads. A probe is a
 * bash builtin ($EPOCHREALTIME, microseconds): no process starts between the host's two timestamps, so the
 * round trip, and with it the reading's error, is the channel's alone.
 */
export const CLOCK_SHELL = `LC_ALL=C exec bash --norc --noprofile -c 'while IFS= read -r l; do eval "$l"; done'`;

/** Guest clocks further apart than this would have been noticed at boot; used when no reading was kept. */
export const UNMEASURED_SKEW_NS = 1_000_000_000;

/** The host's wall clock in ns, to the microsecond. */
export function hostNowNs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1e6);
}

/**
 * The probe with the shortest round trip, as a reading: the guest read its clock somewhere inside the
 * round trip, so the midpoint is off by at most half of it.
 */
export function bestReading(node: number, probes: readonly ClockProbe[], at: number, batch: string): ClockReading {
  if (probes.length === 0) throw new Error(`node${node}: no clock probe to read`);
  const best = probes.reduce((a, p) => (p.answeredNs - p.sentNs < a.answeredNs - a.sentNs ? p : a));
  const mid = (best.sentNs + best.answeredNs) / 2;
  return { node, offsetNs: Math.round(best.guestNs - mid), errorNs: Math.ceil((best.answeredNs - best.sentNs) / 2), at, batch };
}

/**
 * How far apart any two guests' clocks may have been: within each batch, the widest gap between two
 * readings' offsets plus both errors (a node against itself counts its error twice); the widest batch.
 */
export function clockSkewNs(readings: readonly ClockReading[]): number {
  if (readings.length === 0) return UNMEASURED_SKEW_NS;
  let skew = 0;
  for (const a of readings) {
    for (const b of readings) {
      if (a.batch === b.batch) skew = Math.max(skew, Math.abs(a.offsetNs - b.offsetNs) + a.errorNs + b.errorNs);
    }
  }
  return skew;
}

const PROBES = 4;
/** A guest clock this close to its target (or within twice the reading's error) is not set again. */
const CLOCK_GOOD_ENOUGH_NS = 2_000_000;
const CLOCK_SETS = 3;

/**
 * The guest's clock against the host's, from the best of a few probes on one session. A probe that gets
 * no answer, or a late answer to an earlier one, is dropped; only a guest that answers no probe at all is
 * an error.
 */
async function probe(guest: Shell, session: LineSession, timeoutMs: number, batch: string): Promise<ClockReading> {
  const probes: ClockProbe[] = [];
  let failure: unknown;
  for (let i = 0; i < 2 * PROBES && probes.length < PROBES; i++) {
    const sentNs = hostNowNs();
    let out: string;
    try {
      out = await session.ask(`echo ${i} $EPOCHREALTIME`, timeoutMs);
    } catch (err) {
      failure = err;
      continue;
    }
    const answeredNs = hostNowNs();
    const m = /^(\d+) (\d+)\.(\d{6})$/.exec(out.trim());
    if (!m) throw new Error(`${guest.name}: clock probe ${i} printed ${JSON.stringify(out)}`);
    if (Number(m[1]) !== i) {
      failure = new Error(`${guest.name}: clock probe ${i} got the answer to probe ${m[1]}`);
      continue;
    }
    probes.push({ sentNs, answeredNs, guestNs: Number(m[2]) * 1e9 + Number(m[3]) * 1e3 });
  }
  if (probes.length === 0) throw failure;
  return bestReading(guest.id, probes, Date.now(), batch);
}

async function withClockSession<T>(guest: Shell, timeoutMs: number, body: (s: LineSession) => Promise<T>): Promise<T> {
  const session = await guest.lines(CLOCK_SHELL, timeoutMs);
  try {
    return await body(session);
  } finally {
    session.close();
  }
}

/**
 * Puts the guest's wall clock into its kernel log (oracle/kernel-clock.ts), so that the kernel logs of
 * different guests can be read on one timeline: the first line's stamp lies between the two times.
 */
async function markKernelLog(guest: Shell, session: LineSession, timeoutMs: number): Promise<void> {
  const answer = await session.ask(`a=$EPOCHREALTIME; echo "${CLOCK_MARK} $a" >/dev/kmsg; echo "${CLOCK_MARK_END} $EPOCHREALTIME" >/dev/kmsg && echo marked`, timeoutMs);
  if (answer.trim() !== 'marked') throw new Error(`${guest.name}: writing the clock to /dev/kmsg printed ${JSON.stringify(answer)}`);
}

export function readClock(guest: Shell, timeoutMs: number, batch: string): Promise<ClockReading> {
  return withClockSession(guest, timeoutMs, async (s) => {
    const reading = await probe(guest, s, timeoutMs, batch);
    await markKernelLog(guest, s, timeoutMs);
    return reading;
  });
}

/** ns as GNU date's relative seconds: "+1.500000000", "-0.000250000". */
export function relativeSeconds(ns: number): string {
  const abs = BigInt(Math.round(Math.abs(ns)));
  return `${ns < 0 ? '-' : '+'}${abs / 1_000_000_000n}.${String(abs % 1_000_000_000n).padStart(9, '0')}`;
}

/**
 * Sets the guest's clock so that it runs targetOffsetNs ahead of the host's (0: the host's time; a live
 * peer's offset: that peer's time). Measures first, then shifts the clock inside the guest, relative to
 * the guest's own clock, so the ssh round trip does not enter the shift. Returns the reading taken
 * afterwards, which is what the checks rely on.
 */
export function syncClock(guest: Shell, timeoutMs: number, batch: string, targetOffsetNs = 0): Promise<ClockReading> {
  return withClockSession(guest, timeoutMs, async (s) => {
    let reading = await probe(guest, s, timeoutMs, batch);
    for (let i = 0; i < CLOCK_SETS && Math.abs(reading.offsetNs - targetOffsetNs) > Math.max(2 * reading.errorNs, CLOCK_GOOD_ENOUGH_NS); i++) {
      // date reads the clock and sets it in one process: a time computed in the shell and handed to date
      // would be stale by date's own start, 0.1-0.6 s under TCG. Even within date, TCG translating its code
      // for the first time came between the two by 50-300 ms (a first run that only parses halves that):
      // so the residual is measured and set again, with date's code translated by then.
      const relative = `'${relativeSeconds(targetOffsetNs - reading.offsetNs)} seconds'`;
      const answer = await s.ask(`date -d ${relative} >/dev/null; date -s ${relative} >/dev/null && echo "${CLOCK_SET}" >/dev/kmsg && echo set || echo failed`, timeoutMs);
      if (answer.trim() !== 'set') throw new Error(`${guest.name}: setting the clock printed ${JSON.stringify(answer)}`);
      reading = await probe(guest, s, timeoutMs, batch);
    }
    await markKernelLog(guest, s, timeoutMs);
    return reading;
  });
}

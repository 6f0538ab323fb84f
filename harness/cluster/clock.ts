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
  execOrThrow(cmd: string, opts?: { timeoutMs?: number }): Promise<{ stdout: string }>;
}

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

/**
 * The guest's clock against the host's, from the best of a few probes. A probe whose command fails is
 * dropped (seen once: a channel closed without an exit status right after boot); only a guest that
 * answers no probe at all is an error.
 */
export async function readClock(guest: Shell, timeoutMs: number, batch: string): Promise<ClockReading> {
  const probes: ClockProbe[] = [];
  let failure: unknown;
  for (let i = 0; i < 2 * PROBES && probes.length < PROBES; i++) {
    const sentNs = hostNowNs();
    let out: string;
    try {
      out = (await guest.execOrThrow('date +%s%N', { timeoutMs })).stdout.trim();
    } catch (err) {
      failure = err;
      continue;
    }
    const answeredNs = hostNowNs();
    const guestNs = Number(out);
    if (!Number.isFinite(guestNs) || guestNs <= 0) throw new Error(`${guest.name}: date +%s%N printed ${JSON.stringify(out)}`);
    probes.push({ sentNs, answeredNs, guestNs });
  }
  if (probes.length === 0) throw failure;
  return bestReading(guest.id, probes, Date.now(), batch);
}

/**
 * Sets the guest's clock so that it runs targetOffsetNs ahead of the host's (0: the host's time; a live
 * peer's offset: that peer's time). Measures first, then shifts the clock inside the guest, relative to
 * the guest's own clock, so the ssh round trip does not enter the shift. Returns the reading taken
 * afterwards, which is what the checks rely on.
 */
export async function syncClock(guest: Shell, timeoutMs: number, batch: string, targetOffsetNs = 0): Promise<ClockReading> {
  const before = await readClock(guest, timeoutMs, batch);
  const shift = BigInt(Math.round(before.offsetNs - targetOffsetNs));
  await guest.execOrThrow(
    `n=$(( $(date +%s%N) - (${shift}) )); date -s "@$(( n / 1000000000 )).$(printf %09d $(( n % 1000000000 )))" >/dev/null`,
    { timeoutMs },
  );
  return readClock(guest, timeoutMs, batch);
}

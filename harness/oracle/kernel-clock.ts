/**
 * A node's kernel log on its wall clock, so that lines of different nodes can be put on one timeline.
 * dmesg stamps each line with the kernel's local clock (seconds since boot); the guests' wall clocks are
 * the ones the harness sets and reads against the host's (guest/cluster/clock.ts). After each reading the
 * harness writes two lines to /dev/kmsg from one shell:
 *   clogtest: clock mark <wall clock read before the write>
 *   clogtest: clock mark-end <wall clock read after the first write>
 * The first line's stamp m lies between the two readings, so wall - local is within [a - m, b - m]. Both
 * clocks run from the TSC (the guests boot with tsc=reliable) and both stand still while QEMU is stopped,
 * so the difference holds for the whole boot once the wall clock was set; setting it writes
 * "clogtest: clock set", and only marks after the last one count.
 */

export const CLOCK_MARK = 'clogtest: clock mark';
export const CLOCK_MARK_END = 'clogtest: clock mark-end';
export const CLOCK_SET = 'clogtest: clock set';

/** dmesg's "[   37.959108] " prefix. */
const STAMP = /^\s*\[\s*(\d+)\.(\d{6})\]/;
const MARK = new RegExp(`${CLOCK_MARK} (\\d+)\\.(\\d{6})$`);
const MARK_END = new RegExp(`${CLOCK_MARK_END} (\\d+)\\.(\\d{6})$`);

export interface KernelClock {
  /** Wall clock minus the kernel's local clock, in ns. */
  offsetNs: number;
  /** How far the true difference may be from offsetNs. */
  errorNs: number;
  /** Marks it was taken from. */
  marks: number;
}

/** A dmesg line's stamp in ns since boot, or undefined for a line without one. */
export function stampNs(line: string): number | undefined {
  const m = STAMP.exec(line);
  return m ? Number(m[1]) * 1e9 + Number(m[2]) * 1e3 : undefined;
}

const ns = (secs: string, micros: string) => Number(secs) * 1e9 + Number(micros) * 1e3;

/**
 * The kernel log's clock against its wall clock, from the marks after the last clock set; undefined when
 * there is no whole mark, or when the marks disagree (a clock set the log does not show): such a log is
 * not placed on the timeline rather than placed wrongly.
 */
export function kernelClock(dmesg: string): KernelClock | undefined {
  let lo = -Infinity;
  let hi = Infinity;
  let marks = 0;
  // A mark waiting for its end mark, which is the next clogtest clock line: one shell writes both.
  let pending: { wallNs: number; stamp: number } | undefined;
  for (const line of dmesg.split('\n')) {
    const text = line.trimEnd();
    if (!text.includes('clogtest: clock')) continue;
    const a = MARK.exec(text);
    const b = MARK_END.exec(text);
    const stamp = stampNs(text);
    if (b && pending) {
      lo = Math.max(lo, pending.wallNs - pending.stamp);
      hi = Math.min(hi, ns(b[1]!, b[2]!) - pending.stamp);
      marks++;
    }
    pending = a && stamp !== undefined ? { wallNs: ns(a[1]!, a[2]!), stamp } : undefined;
    if (text.endsWith(CLOCK_SET)) [lo, hi, marks] = [-Infinity, Infinity, 0];
  }
  if (marks === 0 || lo > hi) return undefined;
  return { offsetNs: Math.round((lo + hi) / 2), errorNs: Math.ceil((hi - lo) / 2), marks };
}

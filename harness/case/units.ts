/** Durations and sizes as case files write them: "500ms", "30s", "2m", plain seconds; "512KiB", "64MiB", plain bytes. */

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

export const DURATION_HINT = 'use seconds or a number with ms, s, m or h, like 500ms, 30s, 2m';
export const SIZE_HINT = 'use bytes or a whole number with B, KiB, MiB, GiB or TiB, like 512KiB, 64MiB';

/** Milliseconds, or undefined if `raw` is neither a non-negative number of seconds nor a duration string. */
export function parseDuration(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) && raw >= 0 ? Math.round(raw * 1000) : undefined;
  if (typeof raw !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(raw.trim());
  return m ? Math.round(Number(m[1]) * DURATION_UNITS[m[2]!]!) : undefined;
}

/** Bytes, or undefined if `raw` is neither a whole number of bytes nor a size string. */
export function parseSize(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw >= 0 ? raw : undefined;
  if (typeof raw !== 'string') return undefined;
  const m = /^(\d+)\s*(B|KiB|MiB|GiB|TiB)$/.exec(raw.trim());
  if (!m) return undefined;
  const bytes = Number(m[1]) * SIZE_UNITS[m[2]!]!;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** The largest unit that states `bytes` exactly, so messages echo what the user could have written. */
export function formatSize(bytes: number): string {
  for (const unit of ['TiB', 'GiB', 'MiB', 'KiB']) {
    const n = bytes / SIZE_UNITS[unit]!;
    if (bytes > 0 && Number.isInteger(n)) return `${n}${unit}`;
  }
  return `${bytes}B`;
}

export function formatDuration(ms: number): string {
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

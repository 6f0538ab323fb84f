/**
 * Append-only record of a case: every step, fault, workload event and verdict, one JSON object
 * per line, written synchronously so a crash of the harness still leaves what happened up to it.
 */
import { appendFileSync, readFileSync } from 'node:fs';

export type HistoryType = 'step' | 'fault' | 'workload' | 'check' | 'info' | 'error' | 'hang' | 'poll' | 'sample' | 'evidence' | 'clocks' | 'table';

export interface HistoryEntry {
  /** ISO time. */
  t: string;
  /** Milliseconds since the case started. */
  ms: number;
  type: HistoryType;
  node?: number | number[];
  [key: string]: unknown;
}

export class History {
  private readonly t0: number;

  constructor(
    readonly file: string,
    private readonly now: () => number = Date.now,
  ) {
    this.t0 = now();
  }

  append(type: HistoryType, fields: Record<string, unknown> & { node?: number | number[] } = {}): HistoryEntry {
    const at = this.now();
    const entry: HistoryEntry = { t: new Date(at).toISOString(), ms: at - this.t0, type, ...fields };
    appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
    return entry;
  }

  entries(): HistoryEntry[] {
    return parseHistory(readFileSync(this.file, 'utf8'));
  }

  /** The last n entries, for a failure report's "what happened just before". */
  tail(n: number): HistoryEntry[] {
    return this.entries().slice(-n);
  }
}

/** history.jsonl's text as entries; a partial last line (the harness died while writing it) is dropped. */
export function parseHistory(text: string): HistoryEntry[] {
  const lines = text.split('\n').filter((l) => l.trim());
  return lines.flatMap((l, i) => {
    try {
      return [JSON.parse(l) as HistoryEntry];
    } catch (err) {
      if (i === lines.length - 1) return [];
      throw new Error(`history.jsonl line ${i + 1} is not JSON: ${(err as Error).message}`);
    }
  });
}

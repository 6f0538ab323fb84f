/**
 * Parser for the JSON-lines logs vm-images/guest/clogwrite.py writes (one line per event):
 *   {"op":"write-start","t":NS,"run":R,"node":N,"seq":S,"block":B,"offset":O}          before the write is issued
 *   {"op":"write","t":NS,"start":NS,"run":R,"node":N,"seq":S,"block":B,"offset":O}    after it was acknowledged
 *   {"op":"read","t":NS,"start":NS,"run":R,"node":N,"block":B,"offset":O,"kind":K,"found":{...}|null,"why":W}
 * Times are the guest's CLOCK_REALTIME in ns. They exceed 2^53, so JSON.parse keeps them to about 256 ns,
 * far finer than the clock skew between guests, which is what limits ordering anyway.
 */

export interface WriteEvent {
  op: 'write' | 'write-start';
  /** Ack time for 'write', issue time for 'write-start'. */
  t: number;
  /** Issue time, on 'write' only. */
  start?: number;
  run: number;
  node: number;
  seq: number;
  block: number;
  offset: number;
}

export interface ReadEvent {
  op: 'read';
  t: number;
  start: number;
  run: number;
  node: number;
  block: number;
  offset: number;
  kind: string;
  found: { node: number; seq: number; run: number } | null;
  why?: string;
}

export type WriterEvent = WriteEvent | ReadEvent;

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** Every line parsed, or an Error naming `source:line` and what is wrong with it. */
export function parseWriterLog(text: string, source: string): WriterEvent[] {
  const events: WriterEvent[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${source}:${i + 1}`;
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(line) as Record<string, unknown>;
    } catch {
      // A crash mid-line leaves a partial last line; the write it describes was never acknowledged.
      if (i === lines.length - 1) return;
      throw new Error(`${where}: not JSON: ${line.slice(0, 80)}`);
    }
    if (v.op !== 'write' && v.op !== 'write-start' && v.op !== 'read') throw new Error(`${where}: unknown op ${JSON.stringify(v.op)}`);
    const need = v.op === 'read' ? ['t', 'start', 'run', 'node', 'block', 'offset'] : ['t', 'run', 'node', 'seq', 'block', 'offset'];
    if (v.op === 'write') need.push('start');
    for (const k of need) if (!isNum(v[k])) throw new Error(`${where}: field "${k}" missing or not a non-negative number`);
    events.push(v as unknown as WriterEvent);
  });
  return events;
}

/**
 * Reading YAML by hand, with positions: every value keeps the offset an error about it points at, every
 * problem is collected rather than thrown, and an unknown key gets a "did you mean". Knows nothing of cases;
 * load.ts holds the case rules.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, type Document, type ParsedNode } from 'yaml';
import { DURATION_HINT, SIZE_HINT, parseDuration, parseSize } from './units.ts';

/** A YAML value and the offset an error about it points at (the key when the value is empty). */
export interface V {
  node: ParsedNode | null;
  at: number;
}

export interface Entry {
  key: string;
  keyAt: number;
  value: V;
}

export type Fields = Map<string, Entry>;

const SLUG = /^[a-z0-9][a-z0-9._-]*$/;
const SLUG_RULE = 'lowercase letters, digits, ".", "_" and "-"';

export function keyTextAt(text: string, offset: number): string {
  return /^[^:\n]*/.exec(text.slice(offset))![0].trim().replace(/^["']|["']$/g, '');
}

export class Reader {
  readonly problems: Array<{ offset: number; message: string }> = [];

  constructor(
    readonly doc: Document.Parsed,
    private readonly lineCounter: LineCounter,
  ) {}

  err(at: number, message: string): undefined {
    this.problems.push({ offset: at, message });
    return undefined;
  }

  line(at: number): number {
    return this.lineCounter.linePos(at).line;
  }

  deref(v: V): V | undefined {
    if (!isAlias(v.node)) return v;
    const target = v.node.resolve(this.doc);
    if (!target) return this.err(v.at, `unknown alias *${v.node.source}`);
    return { node: target as ParsedNode, at: v.at };
  }

  /** The keys of a mapping, each checked against `allowed` (null: any key, checked by the caller). */
  map(
    v: V,
    what: string,
    allowed: readonly string[] | null,
    unknown = (key: string) => unknownMessage(`key "${key}" in ${what}`, key, allowed ?? []),
  ): Fields | undefined {
    const d = this.deref(v);
    if (!d) return undefined;
    if (!isMap(d.node)) return this.err(d.at, `${what} must be a mapping, got ${describe(d.node)}`);
    const fields: Fields = new Map();
    for (const pair of d.node.items) {
      const keyNode = pair.key;
      const keyAt = keyNode.range?.[0] ?? d.at;
      if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
        this.err(keyAt, `${what} has a key that is not a plain word: ${describe(keyNode)}`);
        continue;
      }
      const key = keyNode.value;
      if (allowed && !allowed.includes(key)) {
        this.err(keyAt, unknown(key));
        continue;
      }
      if (fields.has(key)) continue;
      const value = pair.value;
      const empty = !value || (isScalar(value) && value.value === null && value.range[0] === value.range[1]);
      fields.set(key, { key, keyAt, value: { node: value, at: empty ? keyAt : value.range[0] } });
    }
    return fields;
  }

  seq(v: V, what: string): V[] | undefined {
    const d = this.deref(v);
    if (!d) return undefined;
    if (!isSeq(d.node)) return this.err(d.at, `${what} must be a list, got ${describe(d.node)}`);
    return d.node.items.map((item) => ({ node: item, at: item.range?.[0] ?? d.at }));
  }

  scalar(v: V): { value: unknown; at: number; isScalar: boolean } | undefined {
    const d = this.deref(v);
    if (!d) return undefined;
    if (d.node === null) return { value: null, at: d.at, isScalar: true };
    return { value: isScalar(d.node) ? d.node.value : undefined, at: d.at, isScalar: isScalar(d.node) };
  }

  str(v: V, what: string, opts: { slug?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    const s = this.scalar(v);
    if (!s) return undefined;
    if (!s.isScalar || typeof s.value !== 'string') return this.err(s.at, `${what} must be a string, got ${describe(v.node)}`);
    if (opts.nonEmpty && s.value.trim() === '') return this.err(s.at, `${what} must not be empty`);
    if (opts.slug && !SLUG.test(s.value)) return this.err(s.at, `${what} must be ${SLUG_RULE}, got "${s.value}"`);
    return s.value;
  }

  oneOf<T extends string>(v: V, what: string, choices: readonly T[]): T | undefined {
    const s = this.str(v, what);
    if (s === undefined) return undefined;
    if (!(choices as readonly string[]).includes(s)) return this.err(v.at, unknownMessage(`${what} "${s}"`, s, choices));
    return s as T;
  }

  int(v: V, what: string, min: number, max: number): number | undefined {
    const s = this.scalar(v);
    if (!s) return undefined;
    if (typeof s.value !== 'number' || !Number.isInteger(s.value))
      return this.err(s.at, `${what} must be a whole number, got ${describe(v.node)}`);
    if (s.value < min || s.value > max) return this.err(s.at, `${what} must be from ${min} to ${max}, got ${s.value}`);
    return s.value;
  }

  bool(v: V, what: string): boolean | undefined {
    const s = this.scalar(v);
    if (!s) return undefined;
    if (typeof s.value !== 'boolean') return this.err(s.at, `${what} must be true or false, got ${describe(v.node)}`);
    return s.value;
  }

  duration(v: V, what: string): number | undefined {
    return this.unit(v, what, parseDuration, 'duration', DURATION_HINT);
  }

  size(v: V, what: string): number | undefined {
    return this.unit(v, what, parseSize, 'size', SIZE_HINT);
  }

  /** A scalar with a unit (2s, 4KiB), in the unit's base (ms, bytes). */
  private unit(v: V, what: string, parse: (raw: unknown) => number | undefined, kind: string, hint: string): number | undefined {
    const s = this.scalar(v);
    if (!s) return undefined;
    const n = s.isScalar ? parse(s.value) : undefined;
    if (n === undefined) return this.err(s.at, `${what}: bad ${kind} ${describe(v.node)}: ${hint}`);
    return n;
  }
}

export function describe(node: unknown): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isAlias(node)) return `alias *${node.source}`;
  if (isScalar(node)) {
    if (node.value === null) return 'nothing';
    if (typeof node.value === 'string') return `"${node.value}"`;
    return `${typeof node.value} ${String(node.value)}`;
  }
  return String(node);
}

export function unknownMessage(subject: string, got: string, expected: readonly string[]): string {
  if (expected.length === 0) return `unknown ${subject}: it takes none`;
  const close = expected.find((e) => editDistance(e, got) <= Math.max(1, Math.min(2, Math.floor(e.length / 4))));
  if (close) return `unknown ${subject} (did you mean "${close}"?)`;
  return `unknown ${subject}; expected one of ${expected.join(', ')}`;
}

/** Edits (insert, delete, substitute, swap two neighbours) between a and b, so "nmae" is one away from "name". */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

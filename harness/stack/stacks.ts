/**
 * The named stacks of vm-images/stacks.yaml: where each stack's kernel and lvm2 sources come from, pinned.
 * Everything that builds a kernel or cmirrord from Debian's sources reads its pins here, so a stack's
 * cache keys change only when the file does.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import { InputError } from '../base/errors.ts';
import { repoRoot } from '../base/paths.ts';

export const STACKS_FILE = join(repoRoot, 'vm-images', 'stacks.yaml');
/** Where kernel-patch-forms' file names are relative to. */
export const KERNEL_PATCH_DIR = join(repoRoot, 'kernel-patches');

/** A Debian binary package carrying /usr/src/<package>.tar.xz. */
export interface KernelPackagePin {
  kind: 'package';
  package: string;
  suite: string;
  version: string;
}

/** A Debian source package, named by version and the checksum of its .dsc. */
export interface SourcePackagePin {
  kind: 'source';
  source: string;
  suite: string;
  version: string;
  dscSha256: string;
}

export interface Stack {
  name: string;
  about: string;
  kernel: KernelPackagePin | SourcePackagePin;
  lvm2: SourcePackagePin;
  /** Series patch file name -> the form this stack's kernel needs (absolute path). */
  kernelPatchForms: Map<string, string>;
}

const STACK_NAME = /^[a-z0-9][a-z0-9.-]*$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** Reads and checks the stacks file; every problem names the file and line. */
export function parseStacks(text: string, file: string): Stack[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const where = (offset: number | undefined) => `${relative(process.cwd(), file) || file}:${offset === undefined ? 1 : lines.linePos(offset).line}`;
  if (doc.errors.length) throw new InputError(`${where(doc.errors[0]!.pos[0])}: ${doc.errors[0]!.message.split('\n')[0]}`);
  const stacks = doc.get('stacks', true);
  if (!isMap(stacks) || stacks.items.length === 0) throw new InputError(`${where(0)}: no "stacks:" mapping with at least one stack`);
  return stacks.items.map((item) => {
    const name = String((item.key as { value?: unknown }).value ?? item.key);
    const at = (item.key as { range?: [number] }).range?.[0];
    const fail = (message: string): never => {
      throw new InputError(`${where(at)}: stack ${name}: ${message}`);
    };
    if (!STACK_NAME.test(name)) fail('a stack name is lowercase letters, digits, "." and "-"');
    const body = item.value;
    if (!isMap(body)) return fail('not a mapping');
    const raw = body.toJSON() as Record<string, unknown>;
    const known = ['about', 'kernel', 'lvm2', 'kernel-patch-forms'];
    for (const key of Object.keys(raw)) if (!known.includes(key)) fail(`unknown key "${key}" (known: ${known.join(', ')})`);
    const str = (obj: Record<string, unknown>, key: string, what: string): string => {
      const v = obj[key];
      if (typeof v !== 'string' || v === '') return fail(`${what}.${key} is missing or not a string`);
      return v;
    };
    const record = (v: unknown, what: string): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(`${what} is missing or not a mapping`));
    const sourcePin = (obj: Record<string, unknown>, what: string, source: string): SourcePackagePin => {
      const dscSha256 = str(obj, 'dsc-sha256', what);
      if (!SHA256.test(dscSha256)) fail(`${what}.dsc-sha256 is not a SHA-256 in hex (run \`clogtest stacks update\`)`);
      return { kind: 'source', source, suite: str(obj, 'suite', what), version: str(obj, 'version', what), dscSha256 };
    };
    const k = record(raw.kernel, 'kernel');
    let kernel: Stack['kernel'];
    if ('package' in k === 'source' in k) return fail('kernel names either package: (a linux-source-X package) or source: (a source package)');
    if ('package' in k) kernel = { kind: 'package', package: str(k, 'package', 'kernel'), suite: str(k, 'suite', 'kernel'), version: str(k, 'version', 'kernel') };
    else kernel = sourcePin(k, 'kernel', str(k, 'source', 'kernel'));
    const lvm2 = sourcePin(record(raw.lvm2, 'lvm2'), 'lvm2', 'lvm2');
    const forms = new Map<string, string>();
    if (raw['kernel-patch-forms'] !== undefined) {
      for (const [patch, form] of Object.entries(record(raw['kernel-patch-forms'], 'kernel-patch-forms'))) {
        if (typeof form !== 'string') fail(`kernel-patch-forms.${patch} is not a file name`);
        forms.set(patch, join(KERNEL_PATCH_DIR, form as string));
      }
    }
    return { name, about: typeof raw.about === 'string' ? raw.about : '', kernel, lvm2, kernelPatchForms: forms };
  });
}

export function loadStacks(file = STACKS_FILE): Stack[] {
  return parseStacks(readFileSync(file, 'utf8'), file);
}

/** The stack a command runs when it names none: the file's first. */
export function defaultStack(stacks = loadStacks()): Stack {
  return stacks[0]!;
}

/** One stack by name; undefined (no --stack) is the default one. */
export function stackNamed(name: string | undefined, stacks = loadStacks()): Stack {
  if (name === undefined) return defaultStack(stacks);
  const found = stacks.find((s) => s.name === name);
  if (found) return found;
  const hint = name.includes(',') ? ' (only `clogtest run` takes a list)' : '';
  throw new InputError(`--stack ${name}: no such stack${hint}; ${STACKS_FILE} has ${stacks.map((s) => s.name).join(', ')}`);
}

/** `--stack a,b` or `--stack all` (every stack, in the file's order); each name once. */
export function stacksNamed(list: string, stacks = loadStacks()): Stack[] {
  if (list === 'all') return stacks;
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new InputError('--stack: give a stack name, a comma-separated list of them, or "all"');
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new InputError(`--stack ${list}: ${dup} is named twice`);
  return names.map((n) => stackNamed(n, stacks));
}

/** The Debian package a kernel pin names: the binary linux-source-X package or the source package. */
export function kernelPackageName(pin: Stack['kernel']): string {
  return pin.kind === 'package' ? pin.package : pin.source;
}

/** The pins of one stack, each with where the file holds it, for what an update compares and rewrites. */
export function pinsOf(s: Stack): Array<{ path: string[]; what: string; pin: Stack['kernel'] }> {
  return [
    { path: ['stacks', s.name, 'kernel'], what: kernelPackageName(s.kernel), pin: s.kernel },
    { path: ['stacks', s.name, 'lvm2'], what: 'lvm2', pin: s.lvm2 },
  ];
}

/** The stacks file's text with new pins set, its comments and order kept. */
export function withPins(text: string, pins: ReadonlyArray<{ path: string[]; version: string; dscSha256?: string }>): string {
  const doc: Document = parseDocument(text);
  for (const p of pins) {
    doc.setIn([...p.path, 'version'], p.version);
    if (p.dscSha256 !== undefined) doc.setIn([...p.path, 'dsc-sha256'], p.dscSha256);
  }
  return doc.toString({ lineWidth: 0 });
}

/**
 * Config fragments and their verification. kconfig silently drops an option whose
 * dependencies are unmet; a kernel missing DM_LOG_USERSPACE would make every case
 * fail for the wrong reason, so every requested value is checked in the final .config.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../../base/errors.ts';

export interface Requested {
  option: string;
  /** "y", "m", a number or a quoted string; "n" for `# CONFIG_X is not set`. */
  value: string;
  file: string;
  line: number;
}

const SET = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/;
const UNSET = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/;

export function parseFragment(text: string, file: string): Requested[] {
  const out: Requested[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    const unset = UNSET.exec(line);
    if (unset) {
      out.push({ option: unset[1], value: 'n', file, line: i + 1 });
      return;
    }
    if (!line || line.startsWith('#')) return;
    const set = SET.exec(line);
    if (!set) throw new InputError(`${file}:${i + 1}: not a config line: "${line}"`);
    if (set[2] === 'm') throw new InputError(`${file}:${i + 1}: ${set[1]}=m: clogtest kernels have no modules, use =y`);
    out.push({ option: set[1], value: set[2], file, line: i + 1 });
  });
  return out;
}

export function loadFragment(file: string): Requested[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new InputError(`config fragment ${file}: cannot be read`);
  }
  return parseFragment(text, file);
}

/** The value of every option in a .config; options absent or "is not set" read as "n". */
export function parseDotConfig(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const set = SET.exec(raw.trim());
    if (set) values.set(set[1], set[2]);
  }
  return values;
}

export interface Mismatch extends Requested {
  got: string;
}

/** Later fragments override earlier ones, as merge_config.sh does; only the last request for an option counts. */
export function verifyConfig(requested: readonly Requested[], dotConfig: string): Mismatch[] {
  const last = new Map<string, Requested>();
  for (const r of requested) last.set(r.option, r);
  const actual = parseDotConfig(dotConfig);
  const mismatches: Mismatch[] = [];
  for (const r of last.values()) {
    const got = actual.get(r.option) ?? 'n';
    if (got !== r.value) mismatches.push({ ...r, got });
  }
  return mismatches;
}

export function describeMismatches(mismatches: readonly Mismatch[]): string {
  const lines = mismatches.map(
    (m) => `  ${m.option}=${m.value} (${m.file}:${m.line}) ${m.got === 'n' ? 'was dropped' : `became ${m.got}`}`,
  );
  return `kconfig did not keep ${mismatches.length} requested option(s); their dependencies are not met:\n${lines.join('\n')}`;
}

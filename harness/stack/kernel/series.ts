/** The quilt-style `series` file: patch names in order, comments and options allowed. */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../../base/errors.ts';
import type { PatchRef } from '../patch.ts';

export function parseSeries(text: string, seriesFile: string): PatchRef[] {
  const dir = dirname(seriesFile);
  const refs: PatchRef[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (!line || line.startsWith('#')) return;
    const [name, ...opts] = line.split(/\s+/);
    let strip = 1;
    for (const opt of opts) {
      const m = /^-p(\d+)$/.exec(opt);
      if (!m) throw new InputError(`${seriesFile}:${i + 1}: unsupported option "${opt}" for ${name} (only -pN is understood)`);
      strip = Number(m[1]);
    }
    refs.push({ file: join(dir, name), origin: `${seriesFile}:${i + 1}`, strip });
  });
  return refs;
}

export function loadSeries(seriesFile: string): PatchRef[] {
  if (!existsSync(seriesFile)) return [];
  const refs = parseSeries(readFileSync(seriesFile, 'utf8'), seriesFile);
  for (const ref of refs) {
    if (!existsSync(ref.file)) throw new InputError(`${ref.origin}: patch ${ref.file} does not exist`);
  }
  return refs;
}

/** Patches given on the command line go after the series, in the order given. */
export function commandLinePatches(files: readonly string[], option: string): PatchRef[] {
  return files.map((file) => {
    if (!existsSync(file)) throw new InputError(`${option} ${file}: no such file`);
    // Patches are applied from inside the unpacked source, so a path relative to where the user stands must not reach it.
    return { file: resolve(file), origin: option, strip: 1 };
  });
}

/**
 * The series with a stack's forms of its patches: a kernel that moved on needs some patches rewritten,
 * and the stack names each such file. A form for a patch the series does not have is a stale entry.
 */
export function withPatchForms(refs: readonly PatchRef[], forms: ReadonlyMap<string, string>, stack: string): PatchRef[] {
  const names = new Set(refs.map((r) => basename(r.file)));
  for (const [patch, form] of forms) {
    if (!names.has(patch)) throw new InputError(`stack ${stack}: kernel-patch-forms names ${patch}, which kernel-patches/series does not list`);
    if (!existsSync(form)) throw new InputError(`stack ${stack}: kernel-patch-forms: ${form} does not exist`);
  }
  return refs.map((r) => {
    const form = forms.get(basename(r.file));
    return form ? { ...r, file: form, origin: `${r.origin}, in stack ${stack}'s form` } : r;
  });
}

import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { InputError } from '../base/errors.ts';
import { newestPackage, newestSource, type Newest } from '../stack/host/debian-archive.ts';
import { progress } from '../base/progress.ts';
import { kernelPackageName, loadStacks, pinsOf, STACKS_FILE, withPins, type Stack } from '../stack/stacks.ts';
import { defineCommand } from './command.ts';

function describe(s: Stack, isDefault: boolean): string {
  const kernel = `${kernelPackageName(s.kernel)} ${s.kernel.version} (${s.kernel.suite}, ${s.kernel.kind === 'package' ? 'binary' : 'source'} package)`;
  const forms = [...s.kernelPatchForms.entries()].map(([p, f]) => `\n    ${p} in the form ${relative(process.cwd(), f)}`).join('');
  return `${s.name}${isDefault ? ' (default)' : ''}: ${s.about}\n    kernel ${kernel}\n    lvm2 ${s.lvm2.version} (${s.lvm2.suite})${forms}`;
}

export default defineCommand({
  name: 'stacks',
  summary: 'list the named stacks (kernel and lvm2 sources, pinned), or update their pins',
  help: `usage: clogtest stacks [update]

Lists the stacks of vm-images/stacks.yaml: for each, the Debian kernel source and lvm2 source it
pins and the patches of kernel-patches/series it needs in another form. \`--stack NAME\` on
kernel, image, up, bench, run, mutate and bisect-run builds and runs one of them.

update: finds, for each pin, the newest version its suite serves (from apt's lists; run
\`make setup\` or \`apt-get update\` first for fresh lists), rewrites vm-images/stacks.yaml
with it, and prints what changed. A version apt lists but the archive does not serve is skipped
and reported. Nothing is downloaded but the answers to HEAD requests; nothing is installed.

Exit 0 (update: whether or not anything changed), 2 for a bad stacks file, 3 when apt or the
archive cannot answer.`,
  allowPositionals: true,
  options: {},
  async run(_values, positionals) {
    const stacks = loadStacks();
    if (positionals.length === 0) {
      stacks.forEach((s, i) => process.stdout.write(`${describe(s, i === 0)}\n`));
      return 0;
    }
    if (positionals.length > 1 || positionals[0] !== 'update') throw new InputError(`clogtest stacks: unknown argument "${positionals.join(' ')}" (only "update")`);
    const changes: string[] = [];
    const pins: Parameters<typeof withPins>[1][number][] = [];
    for (const s of stacks) {
      for (const { path, what, pin } of pinsOf(s)) {
        progress(`${s.name}: newest ${what} in ${pin.suite} ...`);
        const newest: Newest = pin.kind === 'package' ? await newestPackage(pin.package, pin.suite) : await newestSource(pin.source, pin.suite);
        if (newest.unserved.length) progress(`${s.name}: ${what} ${newest.unserved.join(', ')} listed by apt but not served by the archive: skipped`);
        const sumChanged = pin.kind === 'source' && newest.dscSha256 !== pin.dscSha256;
        if (newest.version !== pin.version || sumChanged) {
          changes.push(`${s.name}: ${what} ${pin.version} -> ${newest.version}`);
          pins.push({ path, version: newest.version, ...(newest.dscSha256 ? { dscSha256: newest.dscSha256 } : {}) });
        }
      }
    }
    if (pins.length === 0) {
      process.stdout.write('every pin is the newest its suite serves: nothing changed\n');
      return 0;
    }
    writeFileSync(STACKS_FILE, withPins(readFileSync(STACKS_FILE, 'utf8'), pins));
    process.stdout.write(`${changes.join('\n')}\n${STACKS_FILE} rewritten: a changed pin rebuilds that stack's kernel or cmirrord on its next use\n`);
    return 0;
  },
});

import { readFileSync } from 'node:fs';
import { EXIT } from '../base/errors.ts';
import { findTool, run } from '../base/proc.ts';
import { progress } from '../base/progress.ts';
import { cacheRoot } from '../base/paths.ts';
import { hostBootId } from '../guest/vm/accel-probe.ts';
import { accel } from '../guest/vm/qemu-args.ts';
import { chooseAccel, QEMU } from '../guest/vm/machine.ts';
import { defineCommand } from './command.ts';

/** vmx or svm among the host CPU's flags: what nested virtualisation needs, though not all it needs. */
function virtFlags(): string {
  try {
    const flags = new Set(readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:.*$/m)?.[0].split(/\s+/) ?? []);
    return ['vmx', 'svm'].filter((f) => flags.has(f)).join(' ') || 'none';
  } catch {
    return 'unknown (/proc/cpuinfo unreadable)';
  }
}

export default defineCommand({
  name: 'doctor',
  summary: 'say which accelerator guests will use here, and why',
  help: `usage: clogtest doctor [--fresh]

Prints what decides how fast guests run here: QEMU's version, whether /dev/kvm opens, the CPU's
virtualisation flags, and the accelerator verdict with its reason. A /dev/kvm that opens is not
trusted on its word: a 512-byte test guest is booted under KVM and must reach its exit within
a few seconds, else guests run under TCG. The verdict is kept for this host boot (in the cache
directory); CLOGTEST_ACCEL=kvm|tcg overrides it.

Options:
  --fresh                  probe again instead of using this boot's verdict

Exit 0 once the verdict is printed, 3 when QEMU is not installed (run \`clogtest setup\`).`,
  options: { fresh: { type: 'boolean' } },
  async run(values) {
    if (!findTool(QEMU)) {
      progress(`${QEMU} is not installed: run \`clogtest setup\` (or \`make setup\`)`);
      return EXIT.infra;
    }
    const version = (await run(QEMU, ['--version'], { timeoutMs: 10_000 })).stdout.split('\n')[0];
    const out = (line: string) => process.stdout.write(`${line}\n`);
    out(`qemu:          ${version}`);
    out(`/dev/kvm:      ${accel() === 'kvm' ? 'opens' : 'missing or cannot be opened'}`);
    out(`cpu flags:     ${virtFlags()}`);
    out(`host boot:     ${hostBootId()}`);
    out(`cache:         ${cacheRoot()}`);
    const v = await chooseAccel({ fresh: values.fresh ?? false });
    out(`accelerator:   ${v.accel} (${v.why})`);
    return EXIT.ok;
  },
});

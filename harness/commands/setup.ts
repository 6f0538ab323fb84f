import { setupHost } from '../stack/host/setup.ts';
import { HOST_PACKAGES } from '../stack/host/packages.ts';
import { progress } from '../base/progress.ts';
import { chooseAccel } from '../guest/vm/machine.ts';
import { defineCommand } from './command.ts';

export default defineCommand({
  name: 'setup',
  summary: 'install the Debian packages clogtest needs (idempotent)',
  help: `usage: clogtest setup

Adds deb-src entries (sources only) for Debian's bookworm and unstable where apt has none
(cmirrord is built from the lvm2 source package; the stack "newest" from unstable's linux and
lvm2 source packages), updates apt's lists if it added one, and installs any missing package of:
${HOST_PACKAGES.map((p) => `  ${p.name.padEnd(24)} ${p.why}`).join('\n')}
Prints what it installed; a second run installs nothing. Needs root.
Then prints the accelerator guests will use here and why (clogtest doctor tells more).`,
  options: {},
  async run() {
    const { installed, addedDebSrc } = await setupHost(progress);
    if (installed.length) progress(`installed: ${installed.join(' ')}`);
    else progress(addedDebSrc ? 'all packages were already installed' : 'host already set up: nothing to install');
    const v = await chooseAccel();
    progress(`accelerator: ${v.accel} (${v.why})`);
    return 0;
  },
});

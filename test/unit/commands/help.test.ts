import t from 'tap';
import { helpText, parseCommandArgs } from '../../../harness/commands/command.ts';
import { commands } from '../../../harness/commands/index.ts';

/** The flags of the option lines of a --help text ("  -n, --nodes N   ..."), with their short forms. */
function helpFlags(help: string): Map<string, string | undefined> {
  return new Map([...help.matchAll(/^ {2}(?:-(\w), )?--([a-z][\w-]*)/gm)].map((m) => [m[2]!, m[1]]));
}

// A flag --help lists but the parser does not know is a usage error when someone follows the help; one the
// parser takes but --help leaves out is accepted without anyone being told what it does.
for (const cmd of commands) {
  t.test(`${cmd.name}: --help lists exactly the options it parses`, async (t) => {
    const listed = helpFlags(helpText(cmd));
    t.same([...listed.keys()].sort(), Object.keys(cmd.options).sort());
    for (const [name, short] of listed) t.equal(short, cmd.options[name]?.short, `--${name}'s short form`);
    for (const [name, o] of Object.entries(cmd.options)) {
      const argv = o.type === 'string' ? [`--${name}`, 'x'] : [`--${name}`];
      const { values } = parseCommandArgs(cmd, argv);
      t.same(values[name], o.multiple ? [o.type === 'string' ? 'x' : true] : o.type === 'string' ? 'x' : true, `--${name} parses`);
    }
  });
}

t.test('--keep-disks only where the command boots its cluster itself; --nodes wherever cluster options are', async (t) => {
  const byName = new Map(commands.map((c) => [c.name, c]));
  for (const name of ['up', 'bench']) t.ok(byName.get(name)!.options['keep-disks'], `${name} takes --keep-disks`);
  for (const name of ['run', 'bisect-run', 'mutate']) {
    t.notOk(byName.get(name)!.options['keep-disks'], `${name}'s cases keep their disks in the case directory`);
    t.ok(byName.get(name)!.options.nodes, `${name} takes --nodes`);
  }
});

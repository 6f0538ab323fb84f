/** argv -> command -> exit code (0 ok, 1 check failed, 2 bad input, 3 infrastructure). */
import { ClogError, EXIT, internalErrorText } from './base/errors.ts';
import { killAllTracked } from './base/proc.ts';
import { Scope } from './base/scope.ts';
import { commands } from './commands/index.ts';
import { helpText, parseCommandArgs } from './commands/command.ts';

const EXIT_CODES = `Exit codes: 0 ok, 1 a check failed, 2 usage or input error, 3 environment or infrastructure error.`;

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `usage: clogtest COMMAND [OPTIONS]\n\nTest harness for the cluster-aware mirror log (dm-log-userspace + cmirrord).\n\nCommands:\n${lines.join('\n')}\n\nRun \`clogtest COMMAND --help\` for a command's options.\n${EXIT_CODES}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`clogtest: unknown command "${name}" (see \`clogtest --help\`)\n`);
    return EXIT.usage;
  }
  let parsed;
  try {
    parsed = parseCommandArgs(cmd, rest);
  } catch (err) {
    if (cmd.usageExitCode === undefined || !(err instanceof ClogError)) throw err;
    process.stderr.write(`clogtest: ${err.message}\n`);
    return cmd.usageExitCode;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    const own = /^Exit codes/m.test(cmd.help);
    process.stdout.write(own ? helpText(cmd) : `${helpText(cmd)}\n${EXIT_CODES}\n`);
    return EXIT.ok;
  }
  const scope = new Scope();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (interrupted) {
      // A second signal cuts a slow tear-down short, as Playwright's runner does: kill what we started, say what may be left.
      const killed = killAllTracked();
      process.stderr.write(
        `clogtest: second ${signal}: stopping now without the rest of the tear-down${killed.length ? `; killed ${killed.join(' ')}` : ''}.\n` +
          'clogtest: guest logs may be missing and run directories with shared disks may be left under runs/ (remove them by hand).\n',
      );
      process.exit(code);
    }
    interrupted = true;
    process.stderr.write(`clogtest: ${signal} received, tearing down (again to stop at once)\n`);
    void scope.close().finally(() => {
      killAllTracked();
      process.exit(code);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    return await cmd.run(values as never, positionals, { scope });
  } finally {
    await scope.close();
  }
}

process.on('exit', () => {
  const killed = killAllTracked();
  if (killed.length) process.stderr.write(`clogtest: killed leftover processes ${killed.join(' ')}\n`);
});

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ClogError) {
      process.stderr.write(`clogtest: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    // An internal error keeps its cause chain: that is where the reason usually is.
    process.stderr.write(`clogtest: internal error: ${internalErrorText(err)}\n`);
    process.exit(EXIT.infra);
  },
);

/** argv -> command -> exit code (0 ok, 1 check failed, 2 bad input, 3 infrastructure). */
import { ClogError, EXIT } from './errors.ts';
import { killAllTracked } from './proc.ts';
import { Scope } from './scope.ts';
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
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`clogtest: ${signal} received, tearing down\n`);
    void scope.close().finally(() => {
      killAllTracked();
      process.exit(signal === 'SIGINT' ? 130 : 143);
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
    process.stderr.write(`clogtest: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(EXIT.infra);
  },
);

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { defineCommand, intOption, parseCommandArgs } from '../../../harness/commands/command.ts';
import { repoRoot } from '../../../harness/base/paths.ts';

const ssh = defineCommand({
  name: 'ssh',
  summary: 's',
  help: 'h',
  options: { run: { type: 'string' } },
  allowPositionals: true,
  optionsBeforePositionals: true,
  run: async () => 0,
});

t.test('options end at the first positional when the command says so', async (t) => {
  t.same(parseCommandArgs(ssh, ['2', 'corosync-quorumtool', '-s']).positionals, ['2', 'corosync-quorumtool', '-s']);
  const withRun = parseCommandArgs(ssh, ['--run', 'runs/x', '1', 'ls', '--all']);
  t.equal(withRun.values.run, 'runs/x');
  t.same(withRun.positionals, ['1', 'ls', '--all']);
  t.same(parseCommandArgs(ssh, ['--', '-3']).positionals, ['-3']);
});

t.test('an unknown option is a usage error naming the command', async (t) => {
  t.throws(() => parseCommandArgs(ssh, ['--bogus', '1']), { exitCode: 2, message: /clogtest ssh: Unknown option '--bogus' \(see `clogtest ssh --help`\)/ });
});

t.test('whole-number options', async (t) => {
  t.equal(intOption('nodes', undefined, 3, 2, 8), 3);
  t.equal(intOption('nodes', '5', 3, 2, 8), 5);
  t.throws(() => intOption('nodes', 'five', 3, 2, 8), { exitCode: 2, message: '--nodes must be a whole number, got "five"' });
  t.throws(() => intOption('nodes', '9', 3, 2, 8), { exitCode: 2, message: '--nodes must be between 2 and 8, got 9' });
});

function cli(...args: string[]) {
  return spawnSync(join(repoRoot, 'clogtest'), args, { encoding: 'utf8', timeout: 30_000 });
}

t.test('the CLI: help, unknown commands and options, exit codes', async (t) => {
  const help = cli('--help');
  t.equal(help.status, 0);
  t.match(help.stdout, /Commands:[\s\S]*kernel[\s\S]*image[\s\S]*Exit codes: 0 ok, 1 a check failed, 2 usage/);
  const unknown = cli('frobnicate');
  t.equal(unknown.status, 2);
  t.match(unknown.stderr, /unknown command "frobnicate"/);
  const badOption = cli('kernel', '--no-such-option');
  t.equal(badOption.status, 2);
  t.match(badOption.stderr, /clogtest kernel: Unknown option '--no-such-option'/);
  const missing = cli('kernel', '--kernel-patch', '/nonexistent/x.patch');
  t.equal(missing.status, 2);
  t.match(missing.stderr, /--kernel-patch \/nonexistent\/x\.patch: no such file/);
  for (const name of ['setup', 'kernel', 'image', 'stacks', 'up', 'ssh', 'down', 'bench', 'validate', 'decode-log']) {
    const r = cli(name, '--help');
    t.equal(r.status, 0, `${name} --help exits 0`);
    t.match(r.stdout, new RegExp(`^clogtest ${name}: `), `${name} --help says what it is`);
  }
});

t.test('--stack: each case on each stack named, side by side; a stack nobody defined is a usage error', async (t) => {
  const list = cli('run', '--stack', 'newest,debian-12', '--list', 'cases/healthy-sync.yaml', 'cases/node-crash-core.yaml');
  t.equal(list.status, 0, list.stderr);
  t.same(list.stdout.trim().split('\n'), [
    'cases/healthy-sync.yaml healthy-sync@newest',
    'cases/healthy-sync.yaml healthy-sync@debian-12',
    'cases/node-crash-core.yaml node-crash-core@newest',
    'cases/node-crash-core.yaml node-crash-core@debian-12',
  ]);
  const unknown = cli('kernel', '--stack', 'debian-13', '--print-key');
  t.equal(unknown.status, 2);
  t.match(unknown.stderr, /--stack debian-13: no such stack; .*stacks\.yaml has debian-12, linux-6\.12, newest/);
});

import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { connectWithRetry, STREAM_STOP_GRACE_MS } from '../../../harness/guest/remote/ssh.ts';
import { tempDir } from '../../temp-dir.ts';

const { Server, utils } = ssh2;
const hostKey = utils.generateKeyPairSync('ed25519').private;
const clientKey = utils.generateKeyPairSync('ed25519');

/**
 * A fake guest sshd. Commands: `echo X`, `fail` (stderr, exit 3), `hang`, `cat > P`
 * (keeps stdin as file P), `cat P` (prints file P), `count` (prints 1..3 and exits 0), `ticks`
 * (prints "tick" until `pkill -TERM -s` names its session, then a last line, and dies of TERM),
 * `deaf` (as ticks, but ignores the signal). A streamed command comes after the line that records
 * its session id, which the fake takes off.
 */
async function fakeGuest(t: Test, port = 0): Promise<{ port: number; files: Map<string, Buffer>; close: () => Promise<void> }> {
  const files = new Map<string, Buffer>();
  const sessions: Array<() => void> = [];
  const server = new Server({ hostKeys: [hostKey] }, (client) => {
    client.on('error', () => {});
    client.on('authentication', (ctx) => (ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey'])));
    client.on('session', (accept) => {
      accept().on('exec', (acc, _rej, info) => {
        const ch = acc();
        const cmd = info.command.replace(/^mkdir -p \S+ && echo \$\$ >\S+; /, '');
        const end = (code: number) => {
          ch.exit(code);
          ch.end();
        };
        if (cmd.startsWith('echo ')) {
          ch.write(`${cmd.slice(5)}\n`);
          end(0);
        } else if (cmd === 'fail') {
          ch.stderr.write('line1\nsomething broke\n');
          end(3);
        } else if (cmd === 'hang') {
          ch.on('close', () => {});
        } else if (cmd.startsWith('cat > ')) {
          const chunks: Buffer[] = [];
          ch.on('data', (d: Buffer) => chunks.push(d));
          ch.on('end', () => {
            // upload writes a temporary name and renames it into place: the file appears at the rename's target.
            files.set(/ && mv -f \S+ (\S+)$/.exec(cmd)?.[1] ?? cmd.slice(6), Buffer.concat(chunks));
            end(0);
          });
        } else if (cmd.startsWith('cat ')) {
          const f = files.get(cmd.slice(4));
          if (f) ch.write(f);
          else ch.stderr.write(`cat: ${cmd.slice(4)}: No such file or directory\n`);
          end(f ? 0 : 1);
        } else if (cmd === 'ticks' || cmd === 'deaf') {
          const timer = setInterval(() => ch.write('tick\n'), 20);
          ch.on('close', () => clearInterval(timer));
          t.teardown(() => clearInterval(timer));
          if (cmd === 'ticks') sessions.push(() => {
            clearInterval(timer);
            ch.write('last words\n');
            ch.exit('TERM');
            ch.end();
          });
        } else if (cmd.startsWith('pkill -TERM -s ')) {
          sessions.splice(0).forEach((kill) => kill());
          end(0);
        } else if (cmd === 'count') {
          ch.write('1\n2\n');
          ch.stderr.write('3\n');
          end(0);
        } else {
          end(127);
        }
      });
    });
  });
  const bound = await new Promise<number>((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  t.teardown(close);
  return { port: bound, files, close };
}

const opts = (port: number) => ({ port, privateKey: clientKey.private, label: 'node1', deadlineMs: 5000 });

t.test('exec, execOrThrow, upload, download, stream', async (t) => {
  const guest = await fakeGuest(t);
  const ssh = await connectWithRetry(opts(guest.port));
  t.teardown(() => ssh.close());
  t.same(await ssh.exec('echo hello'), { code: 0, signal: undefined, stdout: 'hello\n', stderr: '' });
  const failed = await ssh.exec('fail');
  t.equal(failed.code, 3);
  await t.rejects(ssh.execOrThrow('fail'), /^node1: `fail` exited 3\nline1\nsomething broke$/);

  await ssh.upload(Buffer.from('conf\n'), '/etc/x.conf');
  t.equal(guest.files.get('/etc/x.conf')?.toString(), 'conf\n');
  const dir = tempDir(t, 'ssh-test-');
  writeFileSync(join(dir, 'local'), Buffer.from([0, 1, 2, 255]));
  await ssh.upload(join(dir, 'local'), '/bin.dat');
  await ssh.download('/bin.dat', join(dir, 'back'));
  t.same([...readFileSync(join(dir, 'back'))], [0, 1, 2, 255], 'binary round trip');
  await t.rejects(ssh.download('/missing', join(dir, 'x')), /node1: `cat \/missing` exited 1\ncat: \/missing: No such file/);

  const log = join(dir, 'stream.log');
  const s = await ssh.stream('count', log);
  t.equal(await s.done, 0);
  t.same(readFileSync(log, 'utf8').split('\n').filter(Boolean).sort(), ['1', '2', '3']);
});

t.test('a stopped stream gets SIGTERM and keeps what its command printed before it died', async (t) => {
  const guest = await fakeGuest(t);
  const ssh = await connectWithRetry(opts(guest.port));
  t.teardown(() => ssh.close());
  const dir = tempDir(t, 'ssh-test-');
  const s = await ssh.stream('ticks', join(dir, 'ticks.log'));
  await new Promise((r) => setTimeout(r, 100));
  s.stop();
  t.equal(await s.done, null, 'killed by a signal: no exit code');
  const lines = readFileSync(join(dir, 'ticks.log'), 'utf8').split('\n').filter(Boolean);
  t.equal(lines.at(-1), 'last words');

  // One that does not die is cut off after the grace.
  const deaf = await ssh.stream('deaf', join(dir, 'deaf.log'));
  const t0 = Date.now();
  deaf.stop();
  await deaf.done;
  t.ok(Date.now() - t0 >= STREAM_STOP_GRACE_MS - 50, `cut off after ${Date.now() - t0} ms`);
});

t.test('a command past its timeout is cut off and named', async (t) => {
  const guest = await fakeGuest(t);
  const ssh = await connectWithRetry(opts(guest.port));
  t.teardown(() => ssh.close());
  await t.rejects(ssh.exec('hang', { timeoutMs: 200 }), /timed out after 0.2s waiting for node1: `hang` to finish; last seen: no output/);
  t.equal((await ssh.exec('echo still usable')).stdout, 'still usable\n');
});

t.test('connectWithRetry waits for sshd to come up', async (t) => {
  const port = (await fakeGuest(t).then(async (g) => (await g.close(), g.port)));
  setTimeout(() => void fakeGuest(t, port), 700);
  const started = Date.now();
  const ssh = await connectWithRetry(opts(port));
  t.teardown(() => ssh.close());
  t.ok(Date.now() - started >= 600, 'it retried');
  t.equal((await ssh.exec('echo up')).stdout, 'up\n');
});

t.test('deadline and abort say what was awaited and what was seen', async (t) => {
  const port = (await fakeGuest(t).then(async (g) => (await g.close(), g.port)));
  await t.rejects(
    connectWithRetry({ ...opts(port), deadlineMs: 600 }),
    new RegExp(`timed out after 0.6s waiting for node1: sshd on 127.0.0.1:${port}; last seen: .*ECONNREFUSED`),
  );
  await t.rejects(connectWithRetry({ ...opts(port), abortIf: () => 'QEMU exited' }), /node1: gave up waiting for sshd: QEMU exited/);
});

t.test('the deadline holds when the guest never opens the channel or never lets it close', async (t) => {
  // A guest whose sessions are never accepted: the exec's channel never opens.
  const server = new Server({ hostKeys: [hostKey] }, (client) => {
    client.on('error', () => {});
    client.on('authentication', (ctx) => ctx.accept());
    client.on('session', () => {});
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const ssh = await connectWithRetry(opts(port));
  t.teardown(() => ssh.close());
  const started = Date.now();
  await t.rejects(ssh.exec('dmsetup status', { timeoutMs: 500 }), /timed out after 0.5s waiting for node1: `dmsetup status` to finish; last seen: the channel never opened/);
  t.ok(Date.now() - started < 3000, 'rejected at the deadline');
});

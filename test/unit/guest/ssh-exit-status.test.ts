/**
 * Ssh.exec against an in-process ssh2 server whose commands answer at once (exec success, output,
 * exit-status, EOF and close back to back): exit status, stdout and stderr each come out right, twenty
 * times in a row. It did not reproduce the lost exit-status seen under TCG load (harness/guest/remote/ssh.ts
 * channel()), which this loopback is too fast to show; it guards the plumbing around that fix.
 */
import t from 'tap';
import ssh2 from 'ssh2';
import type { AddressInfo } from 'node:net';
import { connectWithRetry } from '../../../harness/guest/remote/ssh.ts';

const { Server, utils } = ssh2;

t.test('exit status, stdout and stderr of commands that answer at once', async (t) => {
  const hostKey = utils.generateKeyPairSync('ed25519').private;
  const client = utils.generateKeyPairSync('ed25519');
  const server = new Server({ hostKeys: [hostKey] }, (conn) => {
    conn.on('authentication', (ctx) => (ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey'])));
    conn.on('ready', () => {
      conn.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acceptExec, _reject, info) => {
          const ch = acceptExec();
          const code = Number(/exit (\d+)/.exec(info.command)?.[1] ?? 0);
          // All in one go, as a guest's sshd does for a command that is done before the reply is sent.
          ch.write(`ran ${info.command}\n`);
          ch.stderr.write('to stderr\n');
          ch.exit(code);
          ch.end();
        });
      });
    });
    conn.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const ssh = await connectWithRetry({ port, privateKey: Buffer.from(client.private), label: 'fake', deadlineMs: 5000 });
  t.teardown(() => ssh.close());
  for (let i = 0; i < 20; i++) {
    const r = await ssh.exec(`exit ${i % 3}`, { timeoutMs: 5000 });
    t.equal(r.code, i % 3, `run ${i}: exit status`);
    t.equal(r.stdout, `ran exit ${i % 3}\n`);
    t.equal(r.stderr, 'to stderr\n');
  }
});

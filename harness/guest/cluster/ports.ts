/** Free local ports, found by binding port 0 and letting the kernel choose. */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { errorMessage, InfraError } from '../../base/errors.ts';

/** Every port this process has handed out: clusters of cases run at once (`run --jobs`) never share one. */
const handedOut = new Set<string>();

/**
 * Holds every probe socket open until all are chosen, so one call never returns
 * the same port twice, and never returns a port an earlier call of this process returned;
 * another process may still take one before QEMU binds it.
 */
export async function freePorts(kind: 'tcp' | 'udp', count: number): Promise<number[]> {
  const held: Array<Server | UdpSocket> = [];
  try {
    const ports: number[] = [];
    // A probe whose port was handed out before stays held, so the kernel offers another; a bound on tries
    // keeps a host out of free ports from looping.
    for (let tries = 0; ports.length < count; tries++) {
      if (tries > count + 1000) throw new Error(`only ${ports.length} of ${count} unused ports after ${tries} tries`);
      const port = await probe(kind, held);
      if (handedOut.has(`${kind}:${port}`)) continue;
      handedOut.add(`${kind}:${port}`);
      ports.push(port);
    }
    return ports;
  } catch (err) {
    throw new InfraError(`cannot find a free ${kind} port on 127.0.0.1: ${errorMessage(err)}`, { cause: err });
  } finally {
    await Promise.all(
      held.map((h) => new Promise<void>((resolve) => ('listen' in h ? h.close(() => resolve()) : h.close(() => resolve())))),
    );
  }
}

/** Binds port 0 and returns the port the kernel chose; the socket joins held, to be closed by the caller. */
function probe(kind: 'tcp' | 'udp', held: Array<Server | UdpSocket>): Promise<number> {
  if (kind === 'tcp') {
    const server = createServer();
    held.push(server);
    return new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
  }
  const socket = createSocket('udp4');
  held.push(socket);
  return new Promise<number>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve(socket.address().port));
  });
}

/** Free local ports, found by binding port 0 and letting the kernel choose. */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { errorMessage, InfraError } from '../errors.ts';

/**
 * Holds every probe socket open until all are chosen, so one call never returns
 * the same port twice; another process may still take one before QEMU binds it.
 */
export async function freePorts(kind: 'tcp' | 'udp', count: number): Promise<number[]> {
  const held: Array<Server | UdpSocket> = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      if (kind === 'tcp') {
        const server = createServer();
        held.push(server);
        ports.push(
          await new Promise<number>((resolve, reject) => {
            server.once('error', reject);
            server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
          }),
        );
      } else {
        const socket = createSocket('udp4');
        held.push(socket);
        ports.push(
          await new Promise<number>((resolve, reject) => {
            socket.once('error', reject);
            socket.bind(0, '127.0.0.1', () => resolve(socket.address().port));
          }),
        );
      }
    }
    return ports;
  } catch (err) {
    throw new InfraError(`cannot find a free ${kind} port on 127.0.0.1: ${errorMessage(err)}`);
  } finally {
    await Promise.all(
      held.map((h) => new Promise<void>((resolve) => ('listen' in h ? h.close(() => resolve()) : h.close(() => resolve())))),
    );
  }
}

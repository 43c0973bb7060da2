import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';

/** Same shape as the node config's HostPort. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** PEM contents (not paths). With TLS, both sides present a certificate and verify the other's against `ca`. */
export interface TlsFiles {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly ca: string | Buffer;
}

function upgradeRequired(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket only\n');
}

/**
 * The HTTP(S) server a WebSocket server rides on. Client certificates, with TLS:
 * - 'require': a client without one signed by the CA is refused in the handshake (peer port);
 * - 'request': asked for, not required; the socket's `authorized` says whether one was verified.
 */
export function createListener(tls: TlsFiles | null, clientCert: 'require' | 'request'): Server {
  if (tls === null) return createHttpServer(upgradeRequired);
  return createHttpsServer(
    { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: clientCert === 'require' },
    upgradeRequired,
  ) as unknown as Server;
}

export function listen(server: Server, at: HostPort): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

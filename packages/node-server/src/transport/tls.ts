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
 * The HTTP(S) server a WebSocket server rides on. With `requireClientCert`, a TLS client without
 * a certificate signed by the CA is refused during the TLS handshake (peer port).
 */
export function createListener(tls: TlsFiles | null, requireClientCert: boolean): Server {
  if (tls === null) return createHttpServer(upgradeRequired);
  return createHttpsServer(
    { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: requireClientCert, rejectUnauthorized: requireClientCert },
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

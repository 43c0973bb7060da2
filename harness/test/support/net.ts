import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Poll until `predicate` holds; fail with `what` after `timeoutMs`. */
export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export interface TestServer {
  readonly port: number;
  readonly sockets: Set<net.Socket>;
  /** Bytes received, all connections, in arrival order. */
  received(): Buffer;
  close(): Promise<void>;
}

/** A target on 127.0.0.1:0. `echo` writes back what it reads; otherwise it only records. */
export async function startServer(opts: { echo?: boolean; read?: boolean } = {}): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const chunks: Buffer[] = [];
  const server = net.createServer({ allowHalfOpen: false }, (s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    if (opts.read === false) {
      s.pause();
      return;
    }
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      if (opts.echo) s.write(c);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    sockets,
    received: () => Buffer.concat(chunks),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export interface TestClient {
  readonly socket: net.Socket;
  received(): Buffer;
  closed(): boolean;
  error(): Error | null;
}

export async function connectClient(port: number): Promise<TestClient> {
  const chunks: Buffer[] = [];
  let closed = false;
  let err: Error | null = null;
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', (e) => (err = e));
  socket.on('close', () => (closed = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return { socket, received: () => Buffer.concat(chunks), closed: () => closed, error: () => err };
}

/** Dial and wait until the connection is closed by the other side (or refused outright). */
export async function dialUntilClosed(port: number, timeoutMs = 5000): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`connection to ${port} still open after ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

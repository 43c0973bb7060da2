import { Connection, type ConnectionOptions } from './connection.js';

/** What every connection of a pool is opened with. */
export interface KvConnectionPoolOptions {
  /** Largest frame sent or accepted (default: the protocol's). */
  readonly frameBytesMax?: number;
  /** wss:// with these; every client sharing the pool talks to the nodes with them. */
  readonly tls?: ConnectionOptions['tls'];
}

/**
 * Connections that several KvClients share: one WebSocket per node carries the requests of all
 * of them, matched by id. A KvClient runs one write at a time (its session allows one command in
 * flight), so a process that keeps many writes in flight runs many clients; with one pool that is
 * still one connection per node, so a node reads their requests in one wake-up and writes the
 * replies together. The pool's owner closes it; closing a client leaves the pool open.
 */
export class KvConnectionPool {
  private readonly connections = new Map<string, Connection>();
  private closed = false;

  constructor(readonly options: KvConnectionPoolOptions = {}) {}

  /** The live connection to `endpoint`, opened (within `openMsMax`) when there is none. */
  connection(endpoint: string, frameBytesMaxDefault: number, openMsMax: number): Connection {
    if (this.closed) throw new Error('the connection pool is closed');
    let c = this.connections.get(endpoint);
    if (c === undefined || c.closed) {
      c = new Connection(
        { endpoint, frameBytesMax: this.options.frameBytesMax ?? frameBytesMaxDefault, tls: this.options.tls, shared: true },
        openMsMax,
      );
      this.connections.set(endpoint, c);
    }
    return c;
  }

  /** Closes every connection; requests in flight end as lost, later ones are refused. */
  close(): void {
    this.closed = true;
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }
}

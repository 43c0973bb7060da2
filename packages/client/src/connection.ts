import WebSocket from 'ws';
import { encodeRequest, parseResponse, PROTOCOL_VERSION, type ClientResponse, type RequestBody } from './protocol.js';

/**
 * What one attempt on one connection came to. The difference between `not-sent` and the two
 * after-send kinds is the whole point: only a request that never left can be called not applied.
 */
export type AttemptResult =
  | { readonly kind: 'response'; readonly response: ClientResponse }
  /**
   * The connection could not be opened (or was already closed): the request never left.
   * `refused`: the host answered that nothing listens on that port (ECONNREFUSED), so there is
   * no point waiting for this endpoint; any other endpoint may be tried at once.
   */
  | { readonly kind: 'not-sent'; readonly reason: string; readonly refused?: true }
  /** Sent, then the connection closed or answered garbage before this request's response. */
  | { readonly kind: 'lost'; readonly reason: string }
  /** Sent, and no response within the attempt's time. */
  | { readonly kind: 'no-reply' };

export interface ConnectionOptions {
  /** 'host:port' */
  readonly endpoint: string;
  readonly frameBytesMax: number;
  readonly tls?: { readonly ca?: string | Buffer; readonly cert?: string | Buffer; readonly key?: string | Buffer } | undefined;
  /**
   * Shared by several clients (a KvConnectionPool): an attempt that runs out of time while the
   * connection is still opening gives up without closing it, since the others may still use it;
   * the open itself stays bounded by the handshake timeout.
   */
  readonly shared?: boolean;
}

type Settle = (r: AttemptResult) => void;

/** One WebSocket to one node, many requests in flight, matched by id. */
export class Connection {
  private readonly ws: WebSocket;
  private readonly opened: Promise<boolean>;
  private readonly pending = new Map<number, Settle>();
  private nextId = 1;
  private closedReason: string | null = null;
  private refused = false;

  constructor(
    readonly options: ConnectionOptions,
    openMsMax: number,
  ) {
    const scheme = options.tls ? 'wss' : 'ws';
    this.ws = new WebSocket(`${scheme}://${options.endpoint}/`, {
      handshakeTimeout: openMsMax,
      maxPayload: options.frameBytesMax,
      perMessageDeflate: false,
      ...(options.tls ?? {}),
    });
    this.opened = new Promise((resolve) => {
      this.ws.once('open', () => resolve(true));
      this.ws.once('close', () => resolve(false));
    });
    this.ws.on('error', (err) => {
      if (this.ws.readyState !== WebSocket.OPEN && isRefusal(err)) this.refused = true;
      this.fail(`connection error: ${err.message}`);
    });
    this.ws.on('close', (code) => this.fail(`connection closed (${code})`));
    this.ws.on('message', (data, isBinary) => this.receive(data, isBinary));
  }

  get closed(): boolean {
    return this.closedReason !== null;
  }

  /** Never rejects. */
  async request(body: RequestBody, timeoutMs: number): Promise<AttemptResult> {
    const open = await withTimeout(this.opened, timeoutMs, false);
    if (!open || this.closedReason !== null || this.ws.readyState !== WebSocket.OPEN) {
      if (!open && this.options.shared !== true) this.close();
      const reason = this.closedReason ?? 'could not connect in time';
      return this.refused ? { kind: 'not-sent', reason, refused: true } : { kind: 'not-sent', reason };
    }
    const id = this.nextId++;
    return new Promise<AttemptResult>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ kind: 'no-reply' });
      }, timeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(r);
      });
      this.ws.send(encodeRequest({ ...body, v: PROTOCOL_VERSION, id } as Parameters<typeof encodeRequest>[0]));
    });
  }

  close(): void {
    this.fail('closed by the client');
    this.ws.terminate();
  }

  private receive(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) return this.garbage('binary frame from node');
    const parsed = parseResponse(rawText(data));
    if (!parsed.ok) return this.garbage(`malformed response: ${parsed.message}`);
    const id = parsed.value.id;
    if (id === null || id >= this.nextId) return this.garbage(`response to a request never sent (id ${id})`);
    // A late answer to a request we stopped waiting for: harmless, drop it.
    this.pending.get(id)?.({ kind: 'response', response: parsed.value });
  }

  /** A node that answers garbage cannot be trusted to match answers to requests: drop it all. */
  private garbage(reason: string): void {
    this.fail(reason);
    this.ws.terminate();
  }

  private fail(reason: string): void {
    if (this.closedReason === null) this.closedReason = reason;
    for (const settle of [...this.pending.values()]) settle({ kind: 'lost', reason });
  }
}

/** ECONNREFUSED, also when every address of a host name was refused (Node's AggregateError). */
function isRefusal(err: Error): boolean {
  if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') return true;
  return (
    err instanceof AggregateError && err.errors.length > 0 && err.errors.every((e) => (e as NodeJS.ErrnoException).code === 'ECONNREFUSED')
  );
}

function rawText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

function withTimeout<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), ms);
    void p.then((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

import assert from 'node:assert/strict';
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { pino, type Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  badRequest,
  encodeResponse,
  errorResponse,
  FRAME_BYTES_MAX_DEFAULT,
  parseRequest,
  PROTOCOL_VERSION,
  type ClientRequest,
  type ClientResult,
} from '@kvapp/client/protocol';
import { createListener, listen, type HostPort, type TlsFiles } from '../transport/tls.js';
import { TurnCorker } from './turn-corker.js';

/**
 * Answers one valid request. The node assembly supplies the Raft-backed one. It should resolve
 * with an error result rather than reject; a rejection is answered `internal` (outcome unknown).
 */
export type ClientHandler = (request: ClientRequest, from: ClientContext) => Promise<ClientResult>;

/** What the server knows of the connection a request came on. */
export interface ClientContext {
  /** The client showed a TLS certificate signed by the node's CA (only with TLS). */
  readonly verifiedCertificate: boolean;
}

export interface ClientServerLimits {
  /** Requests of one connection being handled at once; one more is answered `overloaded`. */
  readonly inflightRequestsMax: number;
  /** Largest frame accepted (ws maxPayload); a larger one closes the connection (1009). */
  readonly frameBytesMax: number;
  /** A handler that has not answered by then is answered `timeout` (outcome unknown). */
  readonly requestMsMax: number;
  /** Open client connections; more are refused at once (close 1013). */
  readonly connectionsMax: number;
  /** Ping period; a client that did not answer the previous ping is dropped. */
  readonly pingIntervalMs: number;
}

export const CLIENT_SERVER_LIMITS_DEFAULT: ClientServerLimits = {
  inflightRequestsMax: 128,
  frameBytesMax: FRAME_BYTES_MAX_DEFAULT,
  requestMsMax: 10_000,
  connectionsMax: 1024,
  pingIntervalMs: 5000,
};

export interface ClientServerOptions {
  readonly listen: HostPort;
  readonly handler: ClientHandler;
  readonly logger?: Logger;
  readonly limits?: Partial<ClientServerLimits>;
  /**
   * TLS for clients. A client certificate is asked for but not required: one signed by the CA
   * marks the connection verified (ClientContext), which admin requests accept instead of a token.
   */
  readonly tls?: TlsFiles | null;
}

export interface ClientServerStats {
  readonly connections: number;
  readonly requests: number;
  /** Frames answered bad_request (invalid requests) or closed (undecodable). */
  readonly badRequests: number;
  readonly overloaded: number;
  readonly handlerErrors: number;
  readonly timeouts: number;
}

/** WebSocket close codes of the client port. */
export const CLIENT_CLOSE = { undecodable: 1007, tryAgainLater: 1013, shuttingDown: 1001 } as const;

/**
 * The client port: JSON requests in, JSON responses out, matched by id (protocol in
 * @kvapp/client). Every frame gets an answer or closes its connection; nothing a client sends
 * can throw out of here.
 */
export class ClientServer {
  private readonly counters = { requests: 0, badRequests: 0, overloaded: 0, handlerErrors: 0, timeouts: 0 };
  private closed = false;
  /** Each connection's socket, to cork: the replies of one turn leave together. */
  private readonly sockets = new WeakMap<WebSocket, Socket>();
  private readonly corker = new TurnCorker();

  private constructor(
    private readonly o: ClientServerOptions,
    private readonly limits: ClientServerLimits,
    private readonly log: Logger,
    private readonly server: Server,
    private readonly wss: WebSocketServer,
    readonly port: number,
  ) {}

  static async start(o: ClientServerOptions): Promise<ClientServer> {
    const limits = { ...CLIENT_SERVER_LIMITS_DEFAULT, ...o.limits };
    for (const [name, v] of Object.entries(limits)) assert(Number.isSafeInteger(v) && v >= 1, `${name} must be an integer >= 1`);
    const log = (o.logger ?? pino()).child({ component: 'client-server' });
    const server = createListener(o.tls ?? null, 'request');
    // Attached once the port is bound, so that a listen error is a rejection, not an unhandled event.
    const port = await listen(server, o.listen);
    const wss = new WebSocketServer({ server, maxPayload: limits.frameBytesMax, perMessageDeflate: false });
    const s = new ClientServer(o, limits, log, server, wss, port);
    wss.on('connection', (ws, req) => s.onConnection(ws, req));
    wss.on('error', (err) => log.error({ err: err.message }, 'client server error'));
    log.info({ port }, 'client server listening');
    return s;
  }

  stats(): ClientServerStats {
    return { ...this.counters, connections: this.wss.clients.size };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    this.sockets.set(ws, req.socket);
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code?.startsWith('WS_ERR_')) this.counters.badRequests++;
      this.log.debug({ remote, code: err.code, err: err.message }, 'client connection error');
    });
    if (this.closed) return void ws.close(CLIENT_CLOSE.shuttingDown);
    if (this.wss.clients.size > this.limits.connectionsMax) {
      this.log.warn({ remote }, 'too many client connections, refused');
      return void ws.close(CLIENT_CLOSE.tryAgainLater, 'too many connections');
    }
    const from: ClientContext = { verifiedCertificate: (req.socket as Socket & { authorized?: boolean }).authorized === true };
    let inflight = 0;
    ws.on('message', (data, isBinary) => {
      const text = decodeText(data, isBinary);
      if (text === null) {
        this.counters.badRequests++;
        this.reply(ws, badRequest(null, 'frames must be UTF-8 JSON text'));
        return void ws.close(CLIENT_CLOSE.undecodable, 'undecodable frame');
      }
      const parsed = parseRequest(text);
      if (!parsed.ok) {
        this.counters.badRequests++;
        return this.reply(ws, parsed.response);
      }
      const request = parsed.request;
      if (inflight >= this.limits.inflightRequestsMax) {
        this.counters.overloaded++;
        return this.reply(
          ws,
          errorResponse(request.id, {
            code: 'overloaded',
            message: `more than ${this.limits.inflightRequestsMax} requests in flight on this connection`,
          }),
        );
      }
      inflight++;
      this.counters.requests++;
      void this.handle(request, from).then((result) => {
        inflight--;
        this.reply(ws, { v: PROTOCOL_VERSION, id: request.id, ...result });
      });
    });
    let alive = true;
    ws.on('pong', () => (alive = true));
    const ping = setInterval(() => {
      if (!alive) return void ws.terminate();
      alive = false;
      ws.ping();
    }, this.limits.pingIntervalMs);
    ws.on('close', () => clearInterval(ping));
  }

  /** Never rejects. */
  private handle(request: ClientRequest, from: ClientContext): Promise<ClientResult> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.counters.timeouts++;
        resolve({
          ok: false,
          error: { code: 'timeout', message: `no result within ${this.limits.requestMsMax} ms; it may still be applied` },
        });
      }, this.limits.requestMsMax);
      let p: Promise<ClientResult>;
      try {
        p = this.o.handler(request, from);
      } catch (err) {
        p = Promise.reject(err);
      }
      p.then(
        (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        (err: unknown) => {
          clearTimeout(timer);
          this.counters.handlerErrors++;
          this.log.error({ err: err instanceof Error ? err.message : String(err), op: request.op }, 'client handler failed');
          resolve({
            ok: false,
            error: { code: 'internal', message: 'the node failed while handling the request; it may have been applied' },
          });
        },
      );
    });
  }

  private reply(ws: WebSocket, response: Parameters<typeof encodeResponse>[0]): void {
    if (ws.readyState !== ws.OPEN) return;
    const socket = this.sockets.get(ws);
    if (socket !== undefined && !socket.destroyed) this.corker.hold(socket);
    ws.send(encodeResponse(response));
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The frame's text, or null when it is binary or not valid UTF-8. */
function decodeText(data: RawData, isBinary: boolean): string | null {
  if (isBinary) return null;
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
  try {
    return utf8.decode(buf);
  } catch {
    return null;
  }
}

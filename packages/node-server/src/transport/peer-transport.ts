import assert from 'node:assert/strict';
import type { IncomingMessage, Server } from 'node:http';
import { pino, type Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Message, NodeId } from '@kvapp/core';
import { decodeMessage, encodeMessageParts } from './codec.js';
import { ChunkAssembler, chunkFrames, isChunk } from './chunking.js';
import { TransportError } from './errors.js';
import { acceptHandshake, CLOSE, type HandshakeIdentity } from './handshake.js';
import { checkTransportLimits, TRANSPORT_LIMITS_DEFAULT, type TransportLimits } from './limits.js';
import { PeerLink } from './peer-link.js';
import { emptyPeerStats, type PeerStats, type TransportStats } from './stats.js';
import { createListener, listen, type HostPort, type TlsFiles } from './tls.js';

export interface PeerTransportOptions {
  readonly clusterId: string;
  readonly nodeId: NodeId;
  readonly secret: string | Uint8Array;
  /** Peer port; port 0 picks a free one (see `port`). */
  readonly listen: HostPort;
  /** Where to dial each peer. This node's own id must not be in it. */
  readonly peers: ReadonlyMap<NodeId, HostPort>;
  /** Each Raft message from an authenticated peer, in the order that peer sent them. */
  readonly onMessage: (message: Message) => void;
  /** Lines name the node by the logger's `node` binding if it has one, else by nodeId. */
  readonly logger?: Logger;
  readonly limits?: Partial<TransportLimits>;
  readonly tls?: TlsFiles | null;
  /** Jitter source for reconnects; tests may pin it. */
  readonly random?: () => number;
  /** A message to `peer` was dropped (its link is down and its queue full): Raft should probe it. */
  readonly onUnreachable?: (peer: NodeId) => void;
  /** A snapshot message to `peer` was handed to its link (true) or dropped (false). */
  readonly onSnapshotSent?: (peer: NodeId, handedOver: boolean) => void;
}

/**
 * Raft messages between nodes over WebSocket. Outbound: one PeerLink per peer (dial, handshake,
 * bounded queue, reconnect). Inbound: a server whose connections deliver messages only after
 * the handshake, and only messages from the peer that authenticated, addressed to this node.
 * A bad frame closes its connection and is counted; it never throws out of the transport.
 */
export class PeerTransport {
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly inbound = new Map<NodeId, WebSocket>();
  private readonly peerStats = new Map<NodeId, PeerStats>();
  private readonly counters = {
    framesRejected: 0,
    handshakesRejected: 0,
    handshakesAccepted: 0,
    messagesOversize: 0,
    messagesUnroutable: 0,
    messagesChunked: 0,
    chunkedMessagesDiscarded: 0,
  };
  private handshakesPending = 0;
  private closed = false;

  private constructor(
    private readonly o: PeerTransportOptions,
    private readonly limits: TransportLimits,
    private readonly log: Logger,
    private readonly server: Server,
    private readonly wss: WebSocketServer,
    /** The port actually listened on. */
    readonly port: number,
  ) {}

  static async start(o: PeerTransportOptions): Promise<PeerTransport> {
    const limits = { ...TRANSPORT_LIMITS_DEFAULT, ...o.limits };
    const problem = checkTransportLimits(limits);
    assert(problem === null, problem ?? '');
    assert(Number.isSafeInteger(o.nodeId) && o.nodeId >= 1, 'nodeId >= 1');
    assert(!o.peers.has(o.nodeId), 'peers must not include this node');
    // A node's logger names the node already (start-node's child logger); naming it again would
    // put `node` twice on every line. A logger without it gets the node id here.
    const base = o.logger ?? pino();
    const log = base.child({ component: 'peer-transport', ...('node' in base.bindings() ? {} : { node: o.nodeId }) });
    const server = createListener(o.tls ?? null, 'require');
    // The WebSocket server is attached only once the port is bound: attached before, it would
    // re-emit a listen error (EADDRINUSE) as an 'error' event nobody handles yet.
    const port = await listen(server, o.listen);
    const wss = new WebSocketServer({ server, maxPayload: limits.frameBytesMax, perMessageDeflate: false });
    const t = new PeerTransport(o, limits, log, server, wss, port);
    wss.on('connection', (ws, req) => t.onConnection(ws, req));
    wss.on('error', (err) => log.error({ err: err.message }, 'peer server error'));
    server.on('tlsClientError', (err) => log.warn({ err: err.message }, 'peer TLS handshake refused'));
    t.setPeers(o.peers);
    log.info({ port }, 'peer transport listening');
    return t;
  }

  private get me(): HandshakeIdentity {
    return { clusterId: this.o.clusterId, nodeId: this.o.nodeId, secret: this.o.secret };
  }

  /** Queues `message` for `message.to`. Never throws for operating conditions; drops are counted. */
  send(message: Message): void {
    assert(message.from === this.o.nodeId, 'a node sends only its own messages');
    if (this.closed) return;
    const link = this.links.get(message.to);
    if (link === undefined) {
      this.counters.messagesUnroutable++;
      return;
    }
    const handedOver = this.hand(link, message);
    if (!handedOver) this.o.onUnreachable?.(message.to);
    if (message.type === 'snapshot') this.o.onSnapshotSent?.(message.to, handedOver);
  }

  /** Gives the message's frame (or its chunks) to the link; false when it was dropped. */
  private hand(link: PeerLink, message: Message): boolean {
    const parts = encodeMessageParts(message);
    let bytes = 0;
    for (const part of parts) bytes += part.length;
    if (bytes <= this.limits.frameBytesMax) return link.send(parts.length === 1 ? parts[0]! : parts);
    if (bytes > this.limits.messageBytesMax) {
      this.counters.messagesOversize++;
      this.log.warn(
        { peer: message.to, type: message.type, bytes, messageBytesMax: this.limits.messageBytesMax },
        'message larger than messageBytesMax dropped',
      );
      return false;
    }
    this.counters.messagesChunked++;
    return link.sendAll(chunkFrames(parts, this.limits.frameBytesMax));
  }

  /** The driver's `send` shape. */
  sendAll(messages: readonly Message[]): void {
    for (const m of messages) this.send(m);
  }

  /** Membership changed: dial new peers, hang up on removed ones, redial moved ones. */
  setPeers(peers: ReadonlyMap<NodeId, HostPort>): void {
    assert(!peers.has(this.o.nodeId), 'peers must not include this node');
    for (const [id, link] of this.links) {
      const now = peers.get(id);
      if (now === undefined || now.host !== link.address.host || now.port !== link.address.port) {
        link.close();
        this.links.delete(id);
      }
    }
    for (const [id, address] of peers) {
      if (this.links.has(id)) continue;
      this.links.set(
        id,
        new PeerLink({
          me: this.me,
          peer: id,
          address,
          limits: this.limits,
          logger: this.log,
          random: this.o.random ?? Math.random,
          tls: this.o.tls ?? null,
          stats: this.statsOf(id),
        }),
      );
    }
  }

  stats(): TransportStats {
    const peers = new Map<NodeId, PeerStats>();
    for (const [id, s] of this.peerStats) peers.set(id, { ...s });
    return { ...this.counters, peers };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links.values()) link.close();
    this.links.clear();
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private statsOf(id: NodeId): PeerStats {
    let s = this.peerStats.get(id);
    if (s === undefined) {
      s = emptyPeerStats();
      this.peerStats.set(id, s);
    }
    return s;
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    // ws reports protocol violations (oversized or broken frames) here, then closes the socket.
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code?.startsWith('WS_ERR_')) this.counters.framesRejected++;
      this.log.warn({ remote, code: err.code, err: err.message }, 'peer connection error');
    });
    if (this.closed) return void ws.close(CLOSE.shuttingDown);
    if (this.handshakesPending >= this.limits.handshakesPendingMax) {
      this.counters.handshakesRejected++;
      this.log.warn({ remote }, 'too many peer handshakes in progress, refused');
      return void ws.close(CLOSE.tooManyHandshakes);
    }
    this.handshakesPending++;
    acceptHandshake(ws, this.me, this.limits.handshakeMsMax).then(
      (peer) => {
        this.handshakesPending--;
        this.attach(ws, peer, remote);
      },
      (err: unknown) => {
        this.handshakesPending--;
        this.counters.handshakesRejected++;
        const e = err instanceof TransportError ? err : new TransportError('TRANSPORT_HANDSHAKE_REJECTED', String(err));
        this.log.warn({ remote, code: e.code, closeCode: e.closeCode, reason: e.message }, 'peer handshake rejected');
      },
    );
  }

  private attach(ws: WebSocket, peer: NodeId, remote: string): void {
    if (this.closed || ws.readyState !== ws.OPEN) return void ws.terminate();
    this.counters.handshakesAccepted++;
    const previous = this.inbound.get(peer);
    // A peer redials when it thinks its link died; the newest connection is the live one.
    if (previous !== undefined) previous.close(CLOSE.replaced, 'replaced by a newer connection');
    this.inbound.set(peer, ws);
    this.log.info({ peer, remote }, 'peer connected');
    const stats = this.statsOf(peer);
    const chunks = new ChunkAssembler(this.limits.messageBytesMax, () => this.counters.chunkedMessagesDiscarded++);
    let rejected = false;
    ws.on('message', (data, isBinary) => {
      // After a bad frame nothing more is read from that connection, even what is already buffered.
      if (!rejected) rejected = !this.receive(ws, peer, stats, chunks, data as Buffer, isBinary);
    });
    ws.on('close', () => {
      if (this.inbound.get(peer) === ws) this.inbound.delete(peer);
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

  /** Returns false when the frame was refused and the connection is closing. */
  private receive(ws: WebSocket, peer: NodeId, stats: PeerStats, chunks: ChunkAssembler, data: Buffer, isBinary: boolean): boolean {
    let m: Message;
    try {
      if (!isBinary) throw new TransportError('TRANSPORT_BAD_FRAME', 'bad frame: text frame on the peer port');
      let whole: Uint8Array = data;
      if (isChunk(data)) {
        stats.bytesReceived += data.length;
        const assembled = chunks.accept(data);
        if (assembled === null) return true;
        whole = assembled;
      } else {
        chunks.abandon();
      }
      m = decodeMessage(whole);
      if (m.from !== peer) throw new TransportError('TRANSPORT_BAD_FRAME', `bad frame: from ${m.from} on node ${peer}'s connection`);
      if (m.to !== this.o.nodeId) throw new TransportError('TRANSPORT_BAD_FRAME', `bad frame: addressed to node ${m.to}`);
    } catch (err) {
      this.counters.framesRejected++;
      const e = err as TransportError;
      this.log.warn({ peer, code: e.code, reason: e.message }, 'bad peer frame, closing the connection');
      ws.close(CLOSE.badFrame, 'bad frame');
      return false;
    }
    stats.messagesReceived++;
    if (!isChunk(data)) stats.bytesReceived += data.length;
    this.o.onMessage(m);
    return true;
  }
}

import WebSocket from 'ws';
import type { Logger } from 'pino';
import type { NodeId } from '@kvapp/core';
import { backoffMs } from './backoff.js';
import { dialHandshake, type HandshakeIdentity } from './handshake.js';
import type { TransportLimits } from './limits.js';
import type { PeerStats } from './stats.js';
import type { HostPort, TlsFiles } from './tls.js';

export interface PeerLinkOptions {
  readonly me: HandshakeIdentity;
  readonly peer: NodeId;
  readonly address: HostPort;
  readonly limits: TransportLimits;
  readonly logger: Logger;
  readonly random: () => number;
  readonly tls: TlsFiles | null;
  /** Shared with the transport's stats; this link updates its outbound half. */
  readonly stats: PeerStats;
}

type State = 'waiting' | 'connecting' | 'open' | 'closed';

/**
 * The one connection this node dials to one peer, and the only one it sends that peer Raft
 * messages on: every network link thus has one direction. Messages wait in a bounded queue while
 * the link is down or the socket is backed up; when the queue is full new messages are dropped
 * (Raft retransmits), so memory stays bounded whatever the peer does.
 */
/** One WebSocket message: a buffer, or fragments written in order without copying them together. */
export type Frame = Uint8Array | readonly Uint8Array[];

function frameBytes(frame: Frame): number {
  if (frame instanceof Uint8Array) return frame.length;
  let bytes = 0;
  for (const fragment of frame) bytes += fragment.length;
  return bytes;
}

export class PeerLink {
  private state: State = 'waiting';
  private ws: WebSocket | null = null;
  private readonly queue: Frame[] = [];
  private queueBytes = 0;
  /** Bytes given to ws.send whose callback has not run yet. */
  private unflushedBytes = 0;
  /** Bytes whose ws.send callback ran on the current socket: the peer is taking them in. */
  private flushedBytes = 0;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private readonly log: Logger;

  constructor(private readonly o: PeerLinkOptions) {
    this.log = o.logger.child({ peer: o.peer, link: 'out' });
    this.connect();
  }

  get address(): HostPort {
    return this.o.address;
  }

  /** Never throws. Returns false when the message was dropped. */
  send(frame: Frame): boolean {
    if (this.state === 'closed') return false;
    if (this.queue.length === 0 && this.canWrite()) {
      this.write(frame);
      return true;
    }
    const l = this.o.limits;
    const bytes = frameBytes(frame);
    if (this.queue.length >= l.sendQueueMessagesMax || this.queueBytes + bytes > l.sendQueueBytesMax) {
      this.o.stats.queueDrops++;
      return false;
    }
    this.queue.push(frame);
    this.queueBytes += bytes;
    this.o.stats.queueLength = this.queue.length;
    return true;
  }

  /**
   * The chunks of one message: all queued, or none (a message missing a chunk is useless). When
   * the queue is empty they go even if they exceed sendQueueBytesMax (messageBytesMax bounds them).
   */
  sendAll(frames: readonly Frame[]): boolean {
    if (this.state === 'closed') return false;
    let bytes = 0;
    for (const f of frames) bytes += frameBytes(f);
    const l = this.o.limits;
    if (
      this.queue.length > 0 &&
      (this.queue.length + frames.length > l.sendQueueMessagesMax || this.queueBytes + bytes > l.sendQueueBytesMax)
    ) {
      this.o.stats.queueDrops++;
      return false;
    }
    for (const f of frames) {
      this.queue.push(f);
      this.queueBytes += frameBytes(f);
    }
    this.drain();
    return true;
  }

  close(): void {
    this.state = 'closed';
    this.o.stats.connected = false;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.stopPing();
    this.ws?.terminate();
    this.ws = null;
    this.queue.length = 0;
    this.queueBytes = 0;
    this.o.stats.queueLength = 0;
  }

  private canWrite(): boolean {
    return this.state === 'open' && this.unflushedBytes < this.o.limits.sendBufferBytesMax;
  }

  private write(frame: Frame): void {
    const ws = this.ws!;
    const bytes = frameBytes(frame);
    this.unflushedBytes += bytes;
    this.o.stats.messagesSent++;
    this.o.stats.bytesSent += bytes;
    const written = () => {
      // Only the current socket's bytes count; a dead socket's callbacks arrive after reset.
      if (this.ws === ws) {
        this.unflushedBytes -= bytes;
        this.flushedBytes += bytes;
        this.drain();
      }
    };
    if (frame instanceof Uint8Array) return void ws.send(frame, { binary: true }, written);
    // Fragments of one message, sent back to back: nothing else can come between them.
    const last = frame.length - 1;
    frame.forEach((fragment, i) => ws.send(fragment, { binary: true, fin: i === last }, i === last ? written : undefined));
  }

  private drain(): void {
    while (this.queue.length > 0 && this.canWrite()) {
      const frame = this.queue.shift()!;
      this.queueBytes -= frameBytes(frame);
      this.write(frame);
    }
    this.o.stats.queueLength = this.queue.length;
  }

  private connect(): void {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    const { host, port } = this.o.address;
    const l = this.o.limits;
    const tls = this.o.tls;
    const ws = new WebSocket(`${tls ? 'wss' : 'ws'}://${host}:${port}/`, {
      maxPayload: l.frameBytesMax,
      perMessageDeflate: false,
      handshakeTimeout: l.handshakeMsMax,
      // A zero mask: ws then skips masking here and unmasking on the peer, two passes over every
      // byte (a 23 MB snapshot's, on both event loops). Masking guards browser-made traffic
      // against caching proxies; this link carries only authenticated node-to-node frames.
      generateMask: (mask: Buffer) => void mask.fill(0),
      ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: true } : {}),
    });
    this.ws = ws;
    this.unflushedBytes = 0;
    ws.on('error', (err) => this.log.debug({ err: err.message }, 'peer connection error'));
    ws.once('close', () => this.onClose(ws));
    ws.once('open', () => {
      dialHandshake(ws, this.o.me, this.o.peer, l.handshakeMsMax).then(
        () => this.onOpen(ws),
        (err: Error & { closeCode?: number }) => this.log.warn({ code: err.closeCode, err: err.message }, 'peer handshake failed'),
      );
    });
  }

  private onOpen(ws: WebSocket): void {
    if (this.ws !== ws || this.state !== 'connecting') return;
    this.state = 'open';
    this.failures = 0;
    this.o.stats.connected = true;
    this.o.stats.connects++;
    this.log.info('peer link open');
    // The acceptor never speaks after its welcome; anything it sends is a broken peer.
    ws.on('message', () => ws.terminate());
    this.startPing(ws);
    this.drain();
  }

  private onClose(ws: WebSocket): void {
    if (this.ws !== ws) return;
    this.stopPing();
    this.ws = null;
    this.o.stats.connected = false;
    if (this.state === 'closed') return;
    if (this.state === 'open') this.log.info('peer link closed');
    this.state = 'waiting';
    const delay = backoffMs(this.failures++, this.o.limits.reconnectMsMin, this.o.limits.reconnectMsMax, this.o.random);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  /**
   * A link is dead when a whole ping period passed with no pong and none of our bytes taken in.
   * The ping waits behind the bytes written before it, so a pong can be late while a large
   * message (a chunked snapshot) is on its way; a peer still taking bytes in is alive.
   */
  private startPing(ws: WebSocket): void {
    let alive = true;
    let flushedAtPing = this.flushedBytes;
    ws.on('pong', () => (alive = true));
    this.pingTimer = setInterval(() => {
      const progressed = this.flushedBytes !== flushedAtPing;
      if (!alive && !progressed) {
        this.log.warn('peer did not answer a ping and took in no bytes for a ping period, closing the link');
        ws.terminate();
        return;
      }
      alive = false;
      flushedAtPing = this.flushedBytes;
      ws.ping();
    }, this.o.limits.pingIntervalMs);
  }

  private stopPing(): void {
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }
}

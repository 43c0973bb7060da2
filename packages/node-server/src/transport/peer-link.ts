import WebSocket from 'ws';
import type { Logger } from 'pino';
import type { NodeId } from '@kvapp/core';
import { PingWatch } from './ping-watch.js';
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

/** Written in pieces of at most this, each counted as it is flushed (see write()). */
const FRAGMENT_BYTES_MAX = 1024 * 1024;

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

  /**
   * Writes one message as fragments of at most FRAGMENT_BYTES_MAX, sent back to back (nothing else
   * can come between them), each counted as flushed when the socket took it: progress through a
   * 16 MiB chunk shows every megabyte, not once at its end.
   */
  private write(frame: Frame): void {
    const ws = this.ws!;
    const bytes = frameBytes(frame);
    this.unflushedBytes += bytes;
    this.o.stats.messagesSent++;
    this.o.stats.bytesSent += bytes;
    const flushed = (fragment: Uint8Array, last: boolean) => (error?: Error) => {
      // Only the current socket's bytes count; a dead socket's callbacks arrive after reset.
      if (this.ws !== ws || error) return;
      this.unflushedBytes -= fragment.length;
      this.flushedBytes += fragment.length;
      if (last) this.drain();
    };
    // The common case, every message but a snapshot: one buffer, one send.
    if (frame instanceof Uint8Array && frame.length <= FRAGMENT_BYTES_MAX)
      return void ws.send(frame, { binary: true }, flushed(frame, true));
    const fragments: Uint8Array[] = [];
    for (const part of frame instanceof Uint8Array ? [frame] : frame) {
      for (let at = 0; at < part.length; at += FRAGMENT_BYTES_MAX) fragments.push(part.subarray(at, at + FRAGMENT_BYTES_MAX));
    }
    fragments.forEach((fragment, i) => {
      const last = i === fragments.length - 1;
      ws.send(fragment, { binary: true, fin: last }, flushed(fragment, last));
    });
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

  /** Pings every period; PingWatch decides when a silent peer is dead. */
  private startPing(ws: WebSocket): void {
    const watch = new PingWatch(this.flushedBytes);
    ws.on('pong', () => watch.pong());
    this.pingTimer = setInterval(() => {
      const verdict = watch.period(this.unflushedBytes, this.flushedBytes);
      if (verdict === 'ping') return void ws.ping();
      if (verdict === 'dead') {
        this.log.warn({ excusedPeriods: watch.excusedPeriods }, 'peer did not answer a ping, closing the link');
        ws.terminate();
      }
    }, this.o.limits.pingIntervalMs);
  }

  private stopPing(): void {
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }
}

import assert from 'node:assert/strict';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * What a link does with the bytes of its connections. The mode applies to both directions of
 * every TCP connection opened through this link: a link "A->B" is the set of connections A dialed
 * to B, so the replies B sends on them (handshake acks, pongs) share A->B's fate. B's own traffic
 * to A travels over B's dialed connections, i.e. link "B->A", which is why one-way cuts work.
 */
export type LinkMode =
  | { readonly kind: 'pass' }
  | { readonly kind: 'delay'; readonly ms: number; readonly jitterMs: number }
  | { readonly kind: 'blackhole' }
  | { readonly kind: 'reset' };

export const passMode: LinkMode = Object.freeze({ kind: 'pass' });

export interface LinkProxyOptions {
  /** Shown in errors and counters; e.g. "n1->n2". */
  readonly name?: string;
  readonly listenHost?: string;
  /** 0 (default) lets the kernel choose. */
  readonly listenPort?: number;
  readonly targetHost: string;
  readonly targetPort: number;
  /**
   * Per connection and direction: the most bytes held in the proxy. Past it, `pass`/`delay` stop
   * reading from the sender (TCP flow control pushes back) and `blackhole` drops further bytes.
   */
  readonly bufferedBytesMax?: number;
  /** Uniform [0, 1); for jitter. Inject a seeded one for reproducible delays. */
  readonly random?: () => number;
  /**
   * The monotonic clock, in ms, that delays are measured on (default performance.now). A held
   * chunk leaves when this clock reaches its due time; a test injects one to step a delay exactly.
   */
  readonly now?: () => number;
}

export interface LinkCounters {
  connectionsAccepted: number;
  connectionsOpen: number;
  /** Accepted while in `reset` mode and closed at once, or whose target refused. */
  connectionsRefused: number;
  /** Destroyed by the proxy: entering `reset`, or leaving `blackhole` after dropping bytes. */
  connectionsReset: number;
  bytesForwardedToTarget: number;
  bytesForwardedFromTarget: number;
  /** Dropped in `blackhole` past `bufferedBytesMax`, or discarded when a connection was reset. */
  bytesDropped: number;
  /** Held right now (delayed or blackholed), all connections and directions. */
  bytesBuffered: number;
  /** Times a full queue made the proxy stop reading from a sender (`pass`/`delay` back-pressure). */
  sendersPaused: number;
}

const bufferedBytesMaxDefault = 4 * 1024 * 1024;

interface QueuedChunk {
  /** null marks the sender's FIN, which is delayed/held like any byte. */
  readonly chunk: Buffer | null;
  readonly due: number;
}

/** One direction of one proxied connection. */
class Pipe {
  private readonly queue: QueuedChunk[] = [];
  private queuedBytes = 0;
  private lastDue = 0;
  private timer: NodeJS.Timeout | null = null;
  private waitingForDrain = false;
  /** Bytes were dropped: the stream has a hole and can never be delivered faithfully. */
  lostBytes = false;
  ended = false;

  constructor(
    private readonly proxy: LinkProxy,
    private readonly src: net.Socket,
    private readonly dst: net.Socket,
    private readonly toTarget: boolean,
  ) {
    src.on('data', (chunk: Buffer) => this.onData(chunk));
    src.on('end', () => this.onEnd());
    dst.on('drain', () => {
      this.waitingForDrain = false;
      this.flush();
    });
  }

  private onData(chunk: Buffer): void {
    const mode = this.proxy.mode;
    if (mode.kind === 'reset') return; // the connection is being destroyed
    if (mode.kind === 'blackhole' && this.queuedBytes + chunk.length > this.proxy.bufferedBytesMax) {
      this.proxy.counters.bytesDropped += chunk.length;
      this.lostBytes = true;
      return;
    }
    this.push({ chunk, due: this.dueFor(mode) });
  }

  private onEnd(): void {
    this.push({ chunk: null, due: this.dueFor(this.proxy.mode) });
  }

  /** Due times never decrease, so jitter cannot reorder bytes. */
  private dueFor(mode: LinkMode): number {
    const now = this.proxy.now();
    let due = now;
    if (mode.kind === 'delay') {
      const jitter = mode.jitterMs === 0 ? 0 : (this.proxy.random() * 2 - 1) * mode.jitterMs;
      due = now + Math.max(0, mode.ms + jitter);
    }
    this.lastDue = Math.max(this.lastDue, due);
    return this.lastDue;
  }

  private push(item: QueuedChunk): void {
    this.queue.push(item);
    const n = item.chunk?.length ?? 0;
    this.queuedBytes += n;
    this.proxy.counters.bytesBuffered += n;
    this.updateFlow();
    this.flush();
  }

  /** Back-pressure the sender when the queue is full, except in blackhole, which must keep reading. */
  updateFlow(): void {
    if (this.src.destroyed) return;
    const full = this.queuedBytes >= this.proxy.bufferedBytesMax;
    if (full && this.proxy.mode.kind !== 'blackhole') {
      if (!this.src.isPaused()) this.proxy.counters.sendersPaused += 1;
      this.src.pause();
    } else if (this.src.isPaused()) this.src.resume();
  }

  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.proxy.mode.kind === 'blackhole' || this.proxy.mode.kind === 'reset') return;
    if (this.dst.destroyed) return;
    const now = this.proxy.now();
    while (this.queue.length > 0 && !this.waitingForDrain) {
      const head = this.queue[0]!;
      if (head.due > now) {
        this.timer = setTimeout(
          () => {
            this.timer = null;
            this.flush();
          },
          Math.ceil(head.due - now),
        );
        break;
      }
      this.queue.shift();
      if (head.chunk === null) {
        this.ended = true;
        this.dst.end();
        continue;
      }
      this.queuedBytes -= head.chunk.length;
      this.proxy.counters.bytesBuffered -= head.chunk.length;
      if (this.toTarget) this.proxy.counters.bytesForwardedToTarget += head.chunk.length;
      else this.proxy.counters.bytesForwardedFromTarget += head.chunk.length;
      if (!this.dst.write(head.chunk)) this.waitingForDrain = true;
    }
    this.updateFlow();
  }

  /** Forget what is held (the connection is going away). */
  discard(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.proxy.counters.bytesDropped += this.queuedBytes;
    this.proxy.counters.bytesBuffered -= this.queuedBytes;
    this.queuedBytes = 0;
    this.queue.length = 0;
  }
}

class ProxiedConnection {
  readonly up: Pipe;
  readonly down: Pipe;
  private closed = false;

  constructor(
    private readonly proxy: LinkProxy,
    readonly client: net.Socket,
    readonly upstream: net.Socket,
  ) {
    this.up = new Pipe(proxy, client, upstream, true);
    this.down = new Pipe(proxy, upstream, client, false);
    // An error or close on one side ends the other abruptly: that is what the peer would see.
    client.on('error', () => this.destroy(false));
    upstream.on('error', () => this.destroy(false));
    client.on('close', (hadError) => this.onSideClosed(hadError));
    upstream.on('close', (hadError) => this.onSideClosed(hadError));
  }

  private onSideClosed(hadError: boolean): void {
    // Both halves closed cleanly, or one side vanished abruptly: either way the pair is done. A side
    // that closed cleanly while the other is still open waits: its FIN may still be in the queue.
    if (hadError || (this.client.destroyed && this.upstream.destroyed)) this.destroy(false);
  }

  modeChanged(previous: LinkMode, next: LinkMode): void {
    if (next.kind === 'reset') {
      this.destroy(true);
      return;
    }
    if (previous.kind === 'blackhole' && (this.up.lostBytes || this.down.lostBytes)) {
      // The stream has a hole; a real TCP connection would time out. Reset it instead of lying.
      this.destroy(true);
      return;
    }
    for (const pipe of [this.up, this.down]) {
      pipe.updateFlow();
      pipe.flush();
    }
  }

  destroy(byProxy: boolean): void {
    if (this.closed) return;
    this.closed = true;
    if (byProxy) this.proxy.counters.connectionsReset += 1;
    this.up.discard();
    this.down.discard();
    // RST rather than FIN, where the socket supports it, so peers see a reset, not an orderly close.
    for (const s of [this.client, this.upstream]) {
      if (s.destroyed) continue;
      if (byProxy && typeof s.resetAndDestroy === 'function' && s.readyState !== 'opening') s.resetAndDestroy();
      else s.destroy();
    }
    this.proxy.forget(this);
  }
}

/** A TCP proxy for one directed link: listen on host:port, forward to the target. */
export class LinkProxy {
  readonly name: string;
  readonly host: string;
  readonly targetHost: string;
  readonly targetPort: number;
  readonly bufferedBytesMax: number;
  readonly random: () => number;
  readonly now: () => number;
  readonly counters: LinkCounters = {
    connectionsAccepted: 0,
    connectionsOpen: 0,
    connectionsRefused: 0,
    connectionsReset: 0,
    bytesForwardedToTarget: 0,
    bytesForwardedFromTarget: 0,
    bytesDropped: 0,
    bytesBuffered: 0,
    sendersPaused: 0,
  };
  private currentMode: LinkMode = passMode;
  private readonly connections = new Set<ProxiedConnection>();
  /** Sockets not yet paired (upstream still connecting) or refused, so close() finds them all. */
  private readonly looseSockets = new Set<net.Socket>();
  private listenPort = 0;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly server: net.Server,
    options: LinkProxyOptions,
  ) {
    this.name = options.name ?? `proxy->${options.targetHost}:${options.targetPort}`;
    this.host = options.listenHost ?? '127.0.0.1';
    this.targetHost = options.targetHost;
    this.targetPort = options.targetPort;
    this.bufferedBytesMax = options.bufferedBytesMax ?? bufferedBytesMaxDefault;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => performance.now());
    assert.ok(this.bufferedBytesMax > 0, 'bufferedBytesMax must be positive');
  }

  static async start(options: LinkProxyOptions): Promise<LinkProxy> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    const proxy = new LinkProxy(server, options);
    server.on('connection', (socket) => proxy.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: proxy.host, port: options.listenPort ?? 0, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    proxy.listenPort = address.port;
    return proxy;
  }

  get port(): number {
    return this.listenPort;
  }

  /** "host:port" to give to whoever should use this link. */
  get address(): string {
    return `${this.host}:${this.listenPort}`;
  }

  get mode(): LinkMode {
    return this.currentMode;
  }

  get openConnections(): number {
    return this.connections.size;
  }

  setMode(mode: LinkMode): void {
    if (mode.kind === 'delay') {
      assert.ok(Number.isFinite(mode.ms) && mode.ms >= 0, `delay ms must be >= 0, got ${mode.ms}`);
      assert.ok(Number.isFinite(mode.jitterMs) && mode.jitterMs >= 0, `jitterMs must be >= 0, got ${mode.jitterMs}`);
    }
    assert.ok(this.closing === null, `link ${this.name} is closed`);
    const previous = this.currentMode;
    this.currentMode = Object.freeze({ ...mode });
    for (const c of [...this.connections]) c.modeChanged(previous, this.currentMode);
  }

  heal(): void {
    this.setMode(passMode);
  }

  snapshot(): LinkCounters {
    return { ...this.counters };
  }

  private accept(client: net.Socket): void {
    this.counters.connectionsAccepted += 1;
    if (this.closing !== null || this.currentMode.kind === 'reset') {
      this.counters.connectionsRefused += 1;
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    client.setNoDelay(true);
    this.looseSockets.add(client);
    const upstream = net.connect({ host: this.targetHost, port: this.targetPort, allowHalfOpen: true });
    upstream.setNoDelay(true);
    this.looseSockets.add(upstream);
    const onEarlyError = (): void => {
      // The target refused or vanished before we paired: the dialer sees a reset, as it would directly.
      this.looseSockets.delete(client);
      this.looseSockets.delete(upstream);
      this.counters.connectionsRefused += 1;
      upstream.destroy();
      client.on('error', () => {});
      if (!client.destroyed) client.resetAndDestroy();
    };
    upstream.once('error', onEarlyError);
    upstream.once('connect', () => {
      upstream.off('error', onEarlyError);
      this.looseSockets.delete(client);
      this.looseSockets.delete(upstream);
      if (client.destroyed || this.closing !== null || this.currentMode.kind === 'reset') {
        upstream.destroy();
        client.destroy();
        this.counters.connectionsRefused += 1;
        return;
      }
      const connection = new ProxiedConnection(this, client, upstream);
      this.connections.add(connection);
      this.counters.connectionsOpen = this.connections.size;
      client.resume();
    });
    client.on('error', () => {});
  }

  /** Called by a connection when it is done. */
  forget(connection: ProxiedConnection): void {
    this.connections.delete(connection);
    this.counters.connectionsOpen = this.connections.size;
  }

  /** Stop listening and destroy every socket this proxy owns. Idempotent. */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const c of [...this.connections]) c.destroy(false);
      for (const s of this.looseSockets) s.destroy();
      this.looseSockets.clear();
    });
    return this.closing;
  }
}

/** What the corker needs of a socket: node:net's Socket has it. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Holds a socket's writes until the microtasks queued so far have run, then lets them go
 * together. The replies the kernel answers in one pass reach the sockets in the same round of
 * promise continuations, so the replies on one connection leave in one writev instead of one
 * system call each, without waiting for another event-loop turn. Each socket is corked at most
 * once per round.
 */
export class TurnCorker {
  private readonly corked = new Set<Corkable>();

  /** Call before a write: the socket stays corked until the microtasks queued so far have run. */
  hold(socket: Corkable): void {
    if (this.corked.has(socket)) return;
    socket.cork();
    this.corked.add(socket);
    if (this.corked.size === 1) queueMicrotask(() => this.release());
  }

  /** Writes now whatever is held (also done by the microtask hold() queued). */
  release(): void {
    // Cleared first: whatever happens below, the next hold() corks and schedules afresh.
    const sockets = [...this.corked];
    this.corked.clear();
    for (const socket of sockets) {
      try {
        socket.uncork();
      } catch {
        // A socket torn down meanwhile has nothing left to write; the others still go.
      }
    }
  }
}

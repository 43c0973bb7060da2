import type { Message, NodeId } from '@kvapp/core';
import type { ClientReply, ClientRequest } from './protocol.js';
import type { SimRng } from './rng.js';

/** Client endpoints are numbered from here on; node ids stay below. */
export const CLIENT_ENDPOINT_BASE = 100;

export type Payload =
  | { readonly kind: 'raft'; readonly message: Message }
  | { readonly kind: 'request'; readonly request: ClientRequest }
  | { readonly kind: 'reply'; readonly reply: ClientReply };

export interface Envelope {
  readonly from: number;
  readonly to: number;
  readonly payload: Payload;
}

/** How the network misbehaves right now; the worst of the base conditions and every active fault. */
export interface LinkConditions {
  readonly dropPct: number;
  readonly duplicatePct: number;
  readonly delayMsMin: number;
  readonly delayMsMax: number;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  cut: number;
  overflowed: number;
}

/**
 * The virtual network: every message gets its own random delay (so messages reorder), may be
 * dropped or duplicated, and is lost when its link is cut — at send time or, for messages
 * already in flight, at delivery time. Partitions cut node-to-node links, in one direction or
 * both; clients always reach every node that is up (so a deposed leader keeps its clients).
 */
export class VirtualNetwork {
  private readonly buckets = new Map<number, Envelope[]>();
  private readonly cutLinks = new Map<string, number>();
  private size = 0;
  conditions: LinkConditions;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, cut: 0, overflowed: 0 };

  constructor(
    private readonly rng: SimRng,
    readonly base: LinkConditions,
    /** Messages in flight at once; past it new ones are dropped (a full socket buffer). */
    readonly inFlightMax: number,
  ) {
    this.conditions = base;
  }

  get inFlight(): number {
    return this.size;
  }

  /** Cuts from→to. Cuts nest: each cut() needs its own heal(). */
  cut(from: NodeId, to: NodeId): void {
    const key = linkKey(from, to);
    this.cutLinks.set(key, (this.cutLinks.get(key) ?? 0) + 1);
  }

  heal(from: NodeId, to: NodeId): void {
    const key = linkKey(from, to);
    const count = this.cutLinks.get(key) ?? 0;
    if (count <= 1) this.cutLinks.delete(key);
    else this.cutLinks.set(key, count - 1);
  }

  healAll(): void {
    this.cutLinks.clear();
  }

  isCut(from: number, to: number): boolean {
    if (from >= CLIENT_ENDPOINT_BASE || to >= CLIENT_ENDPOINT_BASE) return false;
    return this.cutLinks.has(linkKey(from, to));
  }

  send(envelope: Envelope, nowMs: number): void {
    this.stats.sent++;
    if (this.isCut(envelope.from, envelope.to)) {
      this.stats.cut++;
      return;
    }
    const c = this.conditions;
    if (this.rng.chance(c.dropPct)) {
      this.stats.dropped++;
      return;
    }
    this.schedule(envelope, nowMs + this.rng.between(c.delayMsMin, c.delayMsMax));
    if (this.rng.chance(c.duplicatePct)) {
      this.stats.duplicated++;
      this.schedule(envelope, nowMs + this.rng.between(c.delayMsMin, c.delayMsMax));
    }
  }

  /** Puts an envelope back for later (its receiver is paused). */
  defer(envelope: Envelope, atMs: number): void {
    this.schedule(envelope, atMs);
  }

  /** Envelopes due at `nowMs`, in send order; those on a link cut meanwhile are lost. */
  take(nowMs: number): Envelope[] {
    const due = this.buckets.get(nowMs);
    if (due === undefined) return [];
    this.buckets.delete(nowMs);
    this.size -= due.length;
    const out: Envelope[] = [];
    for (const e of due) {
      if (this.isCut(e.from, e.to)) this.stats.cut++;
      else out.push(e);
    }
    this.stats.delivered += out.length;
    return out;
  }

  private schedule(envelope: Envelope, atMs: number): void {
    if (this.size >= this.inFlightMax) {
      this.stats.overflowed++;
      return;
    }
    const list = this.buckets.get(atMs);
    if (list) list.push(envelope);
    else this.buckets.set(atMs, [envelope]);
    this.size++;
  }
}

function linkKey(from: number, to: number): string {
  return `${from}>${to}`;
}

import { assert } from '../assert.js';
import type { KvSession } from './command.js';
import type { KvResult } from './result.js';

/**
 * The session table (Raft thesis §6.3): for each client, the last applied seq and its result, so
 * that a retried command is applied once and answered with its first result.
 *
 * Assumption: a client has at most ONE command in flight per session (as a harness process
 * does). So only the last seq's result needs keeping: a retry carries the last seq (answer from
 * the cache), a new command carries a higher seq (apply), and a lower seq is an abandoned
 * command whose client no longer waits (answer stale-seq, change nothing). Seqs may skip
 * values: a client that gave up on seq n may go on with n+1, and a late copy of n is then stale.
 *
 * Client ids are issued by the log (`register` answers the entry's index), never chosen by the
 * client. That is what makes expiry safe: an unknown id can only be an expired session, so its
 * command is refused with session-expired. With client-chosen ids, a late retry of a session's
 * first command arriving after expiry would look like a new session and apply twice.
 *
 * Bounds, all decided from log content so that every replica agrees:
 * - `sessionsMax`: opening a session when full evicts the least recently used one (by log
 *   position of its last command).
 * - `sessionIdleMsMax`: a session whose last command is older than this, measured on the log's
 *   clock (the highest `nowMs` applied so far), expires. The log clock is a max, so a leader
 *   with a slow clock cannot move it back; a leader with a fast clock can expire sessions early,
 *   which costs clients an indeterminate outcome but never safety.
 */
export interface SessionRecord {
  readonly clientId: string;
  /** 0 until the first command after register. */
  readonly lastSeq: number;
  /** Log clock when the session was last used. Non-decreasing in table order. */
  readonly lastActiveMs: number;
  /** Result of `lastSeq`; null until the first command. */
  readonly result: KvResult | null;
}

export class SessionTable {
  /** Map iteration order is use order: the first record is the least recently used. */
  private readonly records = new Map<string, SessionRecord>();

  constructor(
    readonly sessionsMax: number,
    readonly sessionIdleMsMax: number,
  ) {
    assert(Number.isSafeInteger(sessionsMax) && sessionsMax >= 1, 'sessionsMax >= 1');
    assert(Number.isSafeInteger(sessionIdleMsMax) && sessionIdleMsMax >= 0, 'sessionIdleMsMax >= 0');
  }

  get size(): number {
    return this.records.size;
  }

  /** In least-recently-used-first order (the order snapshots keep). */
  *all(): IterableIterator<SessionRecord> {
    yield* this.records.values();
  }

  get(clientId: string): SessionRecord | undefined {
    return this.records.get(clientId);
  }

  /** Drops sessions idle longer than sessionIdleMsMax at log clock `clockMs`. Returns how many. */
  expire(clockMs: number): number {
    let dropped = 0;
    for (const rec of this.records.values()) {
      if (clockMs - rec.lastActiveMs <= this.sessionIdleMsMax) break;
      this.records.delete(rec.clientId);
      dropped++;
    }
    return dropped;
  }

  /** Opens a fresh session, evicting the least recently used one if the table is full. */
  open(clientId: string, clockMs: number): void {
    assert(!this.records.has(clientId), `session ${clientId} already open`);
    if (this.records.size >= this.sessionsMax) {
      const lru = this.records.keys().next();
      assert(!lru.done, 'a full table has a first record');
      this.records.delete(lru.value);
    }
    this.put({ clientId, lastSeq: 0, lastActiveMs: clockMs, result: null });
  }

  /**
   * Decides a sessioned command before it runs. Returns the answer when the command must NOT be
   * applied (duplicate, stale or expired), or null when it is new and must be applied and then
   * recorded with `complete`.
   */
  check(session: KvSession, clockMs: number): KvResult | null {
    const rec = this.records.get(session.clientId);
    if (rec === undefined) return { type: 'session-expired' };
    if (session.seq === rec.lastSeq) {
      assert(rec.result !== null, 'a seq >= 1 was recorded with its result');
      this.put({ ...rec, lastActiveMs: clockMs });
      return rec.result;
    }
    if (session.seq < rec.lastSeq) {
      this.put({ ...rec, lastActiveMs: clockMs });
      return { type: 'stale-seq', lastSeq: rec.lastSeq };
    }
    return null;
  }

  complete(session: KvSession, result: KvResult, clockMs: number): void {
    const rec = this.records.get(session.clientId);
    assert(rec !== undefined && session.seq > rec.lastSeq, 'complete() follows a check() that returned null');
    this.put({ clientId: session.clientId, lastSeq: session.seq, lastActiveMs: clockMs, result });
  }

  /** For restore: appends in the given (least recently used first) order. */
  load(rec: SessionRecord): void {
    assert(!this.records.has(rec.clientId), `duplicate session ${rec.clientId}`);
    assert(this.records.size < this.sessionsMax, 'restore within sessionsMax');
    this.records.set(rec.clientId, rec);
  }

  /** Re-inserting moves the record to the most recently used end. */
  private put(rec: SessionRecord): void {
    this.records.delete(rec.clientId);
    this.records.set(rec.clientId, rec);
  }
}

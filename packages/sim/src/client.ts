import { AssertionError, type KvResult, type KvSession, type NodeId } from '@kvapp/core';
import type { HistoryRecorder } from './history.js';
import type { ClientReply, RequestOp } from './protocol.js';
import type { SimRng } from './rng.js';

export interface ClientOptions {
  /** Index of this client, 0-based; also its first process number. */
  readonly index: number;
  readonly endpoint: number;
  readonly nodeIds: readonly NodeId[];
  readonly keys: readonly string[];
  readonly readPct: number;
  readonly casPct: number;
  /**
   * Share of operations (percent) that delete, taken from the top of the same roll that picks
   * read, cas or write: no extra draw from the client's stream, so a seed's other choices stay
   * where they were.
   */
  readonly deletePct: number;
  readonly thinkMsMax: number;
  /** One attempt (one request to one node) waits this long for an answer. */
  readonly attemptTimeoutMs: number;
  /** Pause before retrying after a refusal (no leader known, queue full). */
  readonly retryBackoffMs: number;
}

/** What the client needs from the world around it. */
export interface ClientWorld {
  send(client: number, node: NodeId, requestId: number, op: RequestOp): void;
  newRequestId(): number;
  /** A fresh process number: a process that saw `info` is retired forever. */
  newProcess(): number;
  readonly history: HistoryRecorder;
}

type OpKind = 'read' | 'write' | 'cas' | 'delete';

interface Operation {
  readonly f: OpKind | 'register';
  readonly key: string;
  readonly request: RequestOp;
  readonly startMs: number;
  /** The op gives up (records info) at this time. */
  readonly deadlineMs: number;
  /** Requests of every attempt: a late answer to an earlier attempt is as good as any. */
  readonly requestIds: Set<number>;
  node: NodeId;
  /** When the current attempt times out, or when the next attempt is due (waiting=true). */
  attemptEndMs: number;
  waiting: boolean;
}

/**
 * A simulated client process: one operation at a time, read/write/cas/delete on a few keys, with a
 * session (thesis §6.3) so that retrying a write is safe. It finds the leader by following
 * not-leader hints, retries on timeouts, and gives up at the op's deadline (recording `info`
 * and retiring its process number).
 */
export class SimClient {
  process: number;
  private session: KvSession | null = null;
  private op: Operation | null = null;
  private nextOpMs = 0;
  private stopped = false;
  private leaderGuess: NodeId;
  private valueCounter = 0;
  private readonly lastSeen = new Map<string, string | null>();
  opsStarted = 0;
  /** Ops to start before going idle; the simulation raises it for the liveness phase. */
  opsBudget = 0;
  /** No new op starts at or after this time (the end of the fault phase); Infinity: no limit. */
  stopAtMs = Number.POSITIVE_INFINITY;
  /** Ops started at or after this time must complete definitely (liveness phase); Infinity: none. */
  mustCompleteFromMs = Number.POSITIVE_INFINITY;
  opTimeoutMs = 0;
  /** Operations that ended in info although they had to complete. */
  livenessMisses = 0;

  constructor(
    readonly options: ClientOptions,
    private readonly rng: SimRng,
    private readonly world: ClientWorld,
  ) {
    this.process = options.index;
    this.leaderGuess = rng.pick(options.nodeIds);
  }

  get busy(): boolean {
    return this.op !== null;
  }

  get idle(): boolean {
    return this.op === null && (this.opsStarted >= this.opsBudget || this.stopped);
  }

  act(nowMs: number): void {
    const op = this.op;
    if (op === null) {
      this.stopped = nowMs >= this.stopAtMs;
      if (nowMs >= this.nextOpMs && this.opsStarted < this.opsBudget && !this.stopped) this.begin(nowMs);
      return;
    }
    if (nowMs >= op.deadlineMs) {
      this.giveUp(nowMs, op);
      return;
    }
    if (nowMs < op.attemptEndMs) return;
    if (!op.waiting) op.node = this.nextNode(op.node); // timed out: try someone else
    this.attempt(nowMs, op);
  }

  onReply(nowMs: number, reply: ClientReply): void {
    const op = this.op;
    if (op === null || !op.requestIds.has(reply.requestId)) return; // an answer for an op given up on
    const outcome = reply.outcome;
    switch (outcome.type) {
      case 'not-leader':
        if (outcome.leader !== 0 && outcome.leader !== op.node) {
          op.node = outcome.leader;
          this.leaderGuess = outcome.leader;
          this.attempt(nowMs, op);
        } else {
          op.node = this.nextNode(op.node);
          this.backOff(nowMs, op);
        }
        return;
      case 'retry':
      case 'unknown':
        // Unknown is safe to retry too: the session makes a second attempt apply at most once.
        this.backOff(nowMs, op);
        return;
      case 'read':
        this.leaderGuess = op.node;
        this.lastSeen.set(op.key, outcome.value);
        this.complete(nowMs, op, 'ok', undefined, outcome.value);
        return;
      case 'applied':
        this.leaderGuess = op.node;
        this.applied(nowMs, op, outcome.result);
        return;
    }
  }

  private applied(nowMs: number, op: Operation, result: KvResult): void {
    if (op.f === 'register') {
      // A node that answers a register with another command's result broke the protocol: reported
      // as a failure of the run (with its seed), not thrown out of the simulator.
      if (result.type !== 'registered') throw new AssertionError(`node ${op.node} answered a register with ${result.type}`);
      this.session = { clientId: result.clientId, seq: 0 };
      this.op = null;
      return;
    }
    switch (result.type) {
      case 'ok': {
        // A delete leaves the key absent.
        const written = op.request.kind === 'write' || op.request.kind === 'cas' ? op.request.value : null;
        this.lastSeen.set(op.key, written);
        this.complete(nowMs, op, 'ok');
        return;
      }
      case 'cas-mismatch':
        this.lastSeen.set(op.key, result.current);
        this.complete(nowMs, op, 'fail', 'cas-mismatch');
        return;
      case 'rejected':
        this.complete(nowMs, op, 'fail', result.code);
        return;
      case 'session-expired':
      case 'stale-seq':
      case 'registered':
        // The state machine cannot vouch for an earlier attempt of this op: outcome unknown.
        this.session = null;
        this.complete(nowMs, op, 'info', result.type);
        return;
    }
  }

  private begin(nowMs: number): void {
    if (this.session === null) {
      this.start(nowMs, { f: 'register', key: '', request: { kind: 'register' } });
      return;
    }
    const key = this.rng.pick(this.options.keys);
    const roll = this.rng.nextInt(100);
    this.opsStarted++;
    if (roll < this.options.readPct) {
      this.start(nowMs, { f: 'read', key, request: { kind: 'read', key } });
      return;
    }
    this.session = { clientId: this.session.clientId, seq: this.session.seq + 1 };
    if (roll >= 100 - this.options.deletePct) {
      this.start(nowMs, { f: 'delete', key, request: { kind: 'delete', key, session: this.session } });
      return;
    }
    const value = `${this.options.index}-${++this.valueCounter}`;
    if (roll < this.options.readPct + this.options.casPct) {
      const seen = this.lastSeen.get(key);
      const expected = seen === undefined || this.rng.chance(20) ? null : seen;
      this.start(nowMs, { f: 'cas', key, request: { kind: 'cas', key, expected, value, session: this.session } });
    } else {
      this.start(nowMs, { f: 'write', key, request: { kind: 'write', key, value, session: this.session } });
    }
  }

  private start(nowMs: number, o: Pick<Operation, 'f' | 'key' | 'request'>): void {
    const op: Operation = {
      ...o,
      startMs: nowMs,
      deadlineMs: nowMs + this.opTimeoutMs,
      requestIds: new Set(),
      node: this.leaderGuess,
      attemptEndMs: nowMs,
      waiting: false,
    };
    this.op = op;
    const r = op.request;
    if (r.kind === 'read' || r.kind === 'delete') this.world.history.invoke(nowMs, this.process, r.kind, r.key);
    else if (r.kind === 'write') this.world.history.invoke(nowMs, this.process, 'write', r.key, r.value);
    else if (r.kind === 'cas') this.world.history.invoke(nowMs, this.process, 'cas', r.key, [r.expected, r.value]);
    this.attempt(nowMs, op);
  }

  private attempt(nowMs: number, op: Operation): void {
    const requestId = this.world.newRequestId();
    op.requestIds.add(requestId);
    op.waiting = false;
    op.attemptEndMs = nowMs + this.options.attemptTimeoutMs;
    this.world.send(this.options.endpoint, op.node, requestId, op.request);
  }

  private backOff(nowMs: number, op: Operation): void {
    op.waiting = true;
    op.attemptEndMs = nowMs + this.options.retryBackoffMs;
  }

  private nextNode(node: NodeId): NodeId {
    const ids = this.options.nodeIds;
    return ids[(ids.indexOf(node) + 1) % ids.length]!;
  }

  private giveUp(nowMs: number, op: Operation): void {
    if (op.f === 'register') {
      this.op = null;
      this.nextOpMs = nowMs;
      return;
    }
    this.complete(nowMs, op, 'info', 'timeout');
  }

  /** Records the completion (the recorder repeats the invocation's value; a read gives `readValue`). */
  private complete(nowMs: number, op: Operation, type: 'ok' | 'fail' | 'info', error?: string, readValue?: string | null): void {
    if (op.f === 'register') throw new Error('register is not part of the history');
    const history = this.world.history;
    if (type === 'ok') history.ok(nowMs, this.process, op.f === 'read' ? (readValue ?? null) : undefined);
    else if (type === 'fail') history.fail(nowMs, this.process, error);
    else history.info(nowMs, this.process, error);
    if (type === 'info') {
      if (op.startMs >= this.mustCompleteFromMs) this.livenessMisses++;
      this.process = this.world.newProcess();
    }
    this.op = null;
    this.nextOpMs = nowMs + this.rng.between(0, this.options.thinkMsMax);
  }
}

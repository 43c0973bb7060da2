import assert from 'node:assert/strict';
import pRetry, { AbortError } from 'p-retry';
import { Connection, type AttemptResult, type ConnectionOptions } from './connection.js';
import type { KvConnectionPool } from './connection-pool.js';
import type { EndpointHealth, Outcome, SnapshotSaveOutcome, StatusOutcome } from './outcome.js';
import { BackupWriter } from './snapshot-backup.js';
import {
  ADMIN_OPS,
  FRAME_BYTES_MAX_DEFAULT,
  type SnapshotInfo,
  PROTOCOL_VERSION,
  type ClientResponse,
  type ErrorBody,
  type ErrorCode,
  type ReadMode,
  type RequestBody,
  type Session,
} from './protocol.js';

export interface KvClientOptions {
  /** 'host:port' of each node's client port; any of them, in any order. */
  readonly endpoints: readonly string[];
  /** Every operation ends within this, whatever happens (plus a few ms of bookkeeping). */
  readonly opDeadlineMs?: number;
  /** One attempt on one node waits at most this long, so a hung node cannot eat the whole deadline. */
  readonly attemptMsMax?: number;
  /** p-retry `retries`: attempts after the first. The deadline usually ends an operation first. */
  readonly retriesMax?: number;
  /** Exponential backoff between attempts, randomized by p-retry (x1..x2). */
  readonly backoffMsMin?: number;
  readonly backoffMsMax?: number;
  /** Writes carry a session so that a retry applies once. Off: a write whose first attempt may have applied is never retried. */
  readonly sessions?: boolean;
  /** Largest frame sent or accepted; a request that would not fit fails at once, unsent. */
  readonly frameBytesMax?: number;
  /**
   * When every endpoint refuses the connection (nothing listens on any of them), end the
   * operation at once instead of retrying until the deadline. For a command line, which should
   * answer now; a long-running workload keeps the default (off) to ride out a moment when every
   * node is restarting.
   */
  readonly giveUpWhenAllRefused?: boolean;
  /** wss:// with these (a CA to verify the nodes; cert/key if the nodes ask for a client certificate). */
  readonly tls?: ConnectionOptions['tls'];
  /**
   * Share this pool's connections with other clients (one per node) instead of opening this
   * client's own. The pool's TLS settings and frame bound apply; give `tls` to the pool, not here.
   */
  readonly pool?: KvConnectionPool;
  /** Sent with admin requests (member changes, leader transfer, snapshot); see the node's --admin-token. */
  readonly adminToken?: string;
  /**
   * The monotonic clock, in ms, that every deadline is measured on (default performance.now).
   * Injectable so that a test can move an operation past its deadline without waiting for it.
   */
  readonly now?: () => number;
}

const DEFAULTS = {
  opDeadlineMs: 5000,
  attemptMsMax: 1000,
  retriesMax: 50,
  backoffMsMin: 10,
  backoffMsMax: 500,
  frameBytesMax: FRAME_BYTES_MAX_DEFAULT,
  giveUpWhenAllRefused: false,
};

/** A failed attempt that may be retried. Carries what the final outcome needs if none succeeds. */
class AttemptFailed extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The operation's deadline passed; p-retry rejects with this (unwrapped from AbortError). */
class DeadlineReached extends Error {
  constructor() {
    super('deadline');
  }
}

/** Per-operation facts accumulated over attempts. */
interface OpState {
  /** Some attempt left and its fate is unknown: from then on, `fail` is no longer provable without a session. */
  sentUnknown: boolean;
  lastCode: ErrorCode;
  lastMessage: string;
}

type Step = { readonly done: Outcome } | { readonly sessionExpired: true };

/**
 * A client for a kvapp cluster. Reads run concurrently; writes run one at a time, because a
 * session allows one command in flight (the node keeps only the last seq's result). A write's
 * deadline includes its wait behind earlier writes.
 */
export class KvClient {
  private readonly o: typeof DEFAULTS & {
    endpoints: readonly string[];
    sessions: boolean;
    tls: KvClientOptions['tls'];
    adminToken: string | undefined;
    now: () => number;
    pool: KvConnectionPool | undefined;
  };
  private readonly connections = new Map<string, Connection>();
  private leader: string | null = null;
  private cursor = 0;
  private session: { clientId: string; seq: number } | null = null;
  private writes: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(options: KvClientOptions) {
    assert(options.endpoints.length > 0, 'at least one endpoint');
    this.o = {
      ...DEFAULTS,
      ...stripUndefined(options),
      endpoints: [...options.endpoints],
      sessions: options.sessions ?? true,
      tls: options.tls,
      adminToken: options.adminToken,
      now: options.now ?? (() => performance.now()),
      pool: options.pool,
    };
    assert(this.o.opDeadlineMs > 0 && this.o.attemptMsMax > 0, 'deadlines > 0');
    assert(options.pool === undefined || options.tls === undefined, 'with a pool, give tls to the pool');
  }

  /** The session in use, for logs and tests; null before the first write. */
  get currentSession(): Session | null {
    return this.session ? { ...this.session } : null;
  }

  get(key: string, options: { read?: ReadMode } = {}): Promise<Outcome> {
    const body: RequestBody = options.read ? { op: 'get', key, read: options.read } : { op: 'get', key };
    return this.attempts(body, this.deadline(), null).then(finalOf);
  }

  put(key: string, value: string): Promise<Outcome> {
    return this.write({ op: 'put', key, value });
  }

  delete(key: string): Promise<Outcome> {
    return this.write({ op: 'delete', key });
  }

  /** expected null: only if the key is absent. */
  cas(key: string, expected: string | null, value: string): Promise<Outcome> {
    return this.write({ op: 'cas', key, expected, value });
  }

  // ---- admin: answered by the leader; each needs the admin token unless the node trusts this client's TLS certificate ----

  /** Every member, with addresses, role and (from the leader) match and lag. */
  listMembers(): Promise<Outcome> {
    return this.admin({ op: 'member-list' });
  }

  /** Adds `node` as a learner that others reach at these 'host:port' addresses; ok carries the members after. */
  addMember(node: number, addresses: { peer: string; client: string }): Promise<Outcome> {
    return this.admin({ op: 'member-add', node, peer: addresses.peer, client: addresses.client });
  }

  /** Makes learner `node` a voter; `refused` while it lags too far behind the leader. */
  promoteMember(node: number): Promise<Outcome> {
    return this.admin({ op: 'member-promote', node });
  }

  removeMember(node: number): Promise<Outcome> {
    return this.admin({ op: 'member-remove', node });
  }

  /** Replaces voter `node` by learner `by` in one joint change; ok (with the index) once it is whole. */
  replaceMember(node: number, by: number): Promise<Outcome> {
    return this.admin({ op: 'member-replace', node, by });
  }

  /** Starts handing leadership to voter `node`; watch statusAll() to see it finish. */
  transferLeader(node: number): Promise<Outcome> {
    return this.admin({ op: 'leader-transfer', node });
  }

  /** Has the leader snapshot its applied state and compact its log now; ok carries the index covered. */
  snapshotNow(): Promise<Outcome> {
    return this.admin({ op: 'snapshot-now' });
  }

  /**
   * `kvapp snapshot save`: has the leader snapshot its state now (snapshot-now), then reads that
   * node's snapshot file in chunks (snapshot-read, every chunk from the same node, each within the
   * op deadline) into `file`: a temp file beside it, checked against the SHA-256 the node named,
   * fsynced and renamed into place (see snapshot-backup.ts for the format). If the node's
   * snapshot changes between chunks (it took a newer one), the read starts again, a few times at
   * most. Nothing is left at `file` unless the outcome is ok.
   */
  async saveSnapshot(file: string): Promise<SnapshotSaveOutcome> {
    const taken = await this.snapshotNow();
    if (taken.status === 'indeterminate')
      return { status: 'fail', error: { code: 'timeout', message: `snapshot-now: outcome unknown: ${taken.reason}` } };
    if (taken.status === 'fail')
      return { status: 'fail', error: { code: taken.error.code, message: `snapshot-now: ${taken.error.message}` } };
    // The node that answered snapshot-now (the leader): the one whose file is read.
    const endpoint = this.leader ?? this.o.endpoints[this.cursor]!;
    const writer = new BackupWriter(file);
    try {
      for (let restarts = 0; restarts <= SNAPSHOT_READ_RESTARTS_MAX; restarts++) {
        const r = await this.readSnapshotInto(endpoint, writer);
        if (r === 'changed') continue;
        if (r.status !== 'ok') {
          await writer.abort();
          return r;
        }
        try {
          await writer.finish();
        } catch (error) {
          return { status: 'fail', error: { code: 'file', message: (error as Error).message } };
        }
        return { ...r, restarts };
      }
      await writer.abort();
      return {
        status: 'fail',
        error: { code: 'refused', message: `the snapshot on ${endpoint} changed ${SNAPSHOT_READ_RESTARTS_MAX + 1} times while being read` },
      };
    } catch (error) {
      await writer.abort();
      const e = error as NodeJS.ErrnoException;
      if (e.syscall === undefined) throw error;
      return { status: 'fail', error: { code: 'file', message: `${file}: ${e.message}` } };
    }
  }

  /** One pass over the snapshot file on `endpoint`, chunk by chunk; 'changed' to start again. */
  private async readSnapshotInto(endpoint: string, writer: BackupWriter): Promise<SnapshotSaveOutcome | 'changed'> {
    let info: SnapshotInfo | null = null;
    let offset = 0;
    let chunks = 0;
    for (;;) {
      const body: RequestBody = {
        op: 'snapshot-read',
        offset,
        ...(info !== null ? { index: info.index, checksum: info.checksum } : {}),
        ...(this.o.adminToken !== undefined ? { token: this.o.adminToken } : {}),
      };
      const r = await this.pinned(endpoint, body);
      if ('failed' in r) return { status: 'fail', error: { code: r.code, message: r.failed } };
      if (!r.ok) {
        if (r.error.code === 'refused' && info !== null) return 'changed';
        return { status: 'fail', error: { code: r.error.code, message: r.error.message } };
      }
      const got = r.snapshot;
      if (got === undefined || r.data === undefined)
        return { status: 'fail', error: { code: 'internal', message: 'snapshot-read answered ok without snapshot and data' } };
      if (info === null) {
        info = got;
        await writer.begin(info);
      } else if (got.index !== info.index || got.checksum !== info.checksum || got.bytes !== info.bytes) {
        return 'changed';
      }
      const data = Buffer.from(r.data, 'base64');
      if (offset + data.length > info.bytes || (data.length === 0 && offset < info.bytes)) {
        return {
          status: 'fail',
          error: { code: 'internal', message: `snapshot-read answered ${data.length} bytes at offset ${offset} of ${info.bytes}` },
        };
      }
      await writer.append(data);
      offset += data.length;
      chunks++;
      if (offset === info.bytes) return { status: 'ok', snapshot: info, endpoint, chunks, restarts: 0 };
    }
  }

  /**
   * A read-only request to one endpoint, retried there (never elsewhere) on a lost connection or a
   * transient error until the op deadline: for requests that must reach the same node.
   */
  private async pinned(endpoint: string, body: RequestBody): Promise<ClientResponse | { failed: string; code: ErrorCode }> {
    const deadline = this.deadline();
    let backoff = this.o.backoffMsMin;
    let last = 'no attempt';
    let code: ErrorCode = 'unavailable';
    for (;;) {
      const left = deadline - this.o.now();
      if (left <= 0 || this.closed) return { failed: `${endpoint} did not answer ${body.op} in time: ${last}`, code };
      const r = await this.connection(endpoint).request(body, left);
      if (r.kind === 'response') {
        const e = r.response.ok ? null : r.response.error;
        if (e === null || !['unavailable', 'overloaded', 'timeout', 'internal'].includes(e.code)) return r.response;
        last = `${e.code}: ${e.message}`;
        code = e.code;
      } else {
        last = describe(r);
        code = r.kind === 'not-sent' ? 'unavailable' : 'timeout';
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(backoff, Math.max(1, deadline - this.o.now()))));
      backoff = Math.min(this.o.backoffMsMax, backoff * 2);
    }
  }

  /** Asks every endpoint for its view, once each, in parallel. */
  statusAll(): Promise<StatusOutcome[]> {
    return Promise.all(this.o.endpoints.map(async (endpoint) => statusOf(endpoint, await this.probe(endpoint))));
  }

  /**
   * Whether each endpoint accepts a connection and answers, once each, in parallel. Healthy: it
   * answers and knows a leader, so a request sent to it can be served (there or by redirect).
   */
  healthAll(): Promise<EndpointHealth[]> {
    return Promise.all(
      this.o.endpoints.map(async (endpoint): Promise<EndpointHealth> => {
        const r = await this.probe(endpoint);
        const reachable = r.kind !== 'not-sent';
        const s = statusOf(endpoint, r);
        if (!s.ok) return { endpoint, reachable, answers: r.kind === 'response', healthy: false, error: s.message };
        if (s.status.leaderId === null)
          return { endpoint, reachable, answers: true, healthy: false, error: 'no leader is known to this node' };
        return { endpoint, reachable, answers: true, healthy: true };
      }),
    );
  }

  close(): void {
    this.closed = true;
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }

  /** Admin requests carry no session: one whose attempt may have applied is not retried. */
  private admin(body: RequestBody): Promise<Outcome> {
    const withToken = this.o.adminToken !== undefined ? ({ ...body, token: this.o.adminToken } as RequestBody) : body;
    return this.attempts(withToken, this.deadline(), null).then(finalOf);
  }

  private deadline(): number {
    return this.o.now() + this.o.opDeadlineMs;
  }

  private write(body: RequestBody): Promise<Outcome> {
    const deadline = this.deadline();
    const run = this.writes.then(() => this.runWrite(body, deadline));
    this.writes = run.catch(() => undefined);
    return run;
  }

  private async runWrite(body: RequestBody, deadline: number): Promise<Outcome> {
    if (!this.o.sessions) return finalOf(await this.attempts(body, deadline, null));
    // A session_expired on an operation none of whose attempts can have applied: open a new
    // session and go on. Twice in one operation means something is wrong; stop.
    for (let round = 0; round < 2; round++) {
      if (this.session === null) {
        const opened = await this.register(deadline);
        if (opened.status !== 'ok') return opened;
      }
      const session = this.session;
      assert(session !== null);
      session.seq += 1;
      const step = await this.attempts(
        { ...body, session: { clientId: session.clientId, seq: session.seq } } as RequestBody,
        deadline,
        session,
      );
      if ('done' in step) return step.done;
      this.session = null;
    }
    return { status: 'fail', error: { code: 'session_expired', message: 'the session expired twice in one operation' } };
  }

  /** Opening a session sends nothing of the operation itself: any failure here is a `fail`. */
  private async register(deadline: number): Promise<Outcome> {
    const state: OpState = { sentUnknown: false, lastCode: 'unavailable', lastMessage: 'no node answered' };
    const step = await this.retry(deadline, state, async (timeoutMs) => {
      const r = await this.attempt({ op: 'register' }, timeoutMs);
      if (r.kind === 'response' && r.response.ok && typeof r.response.clientId === 'string') {
        this.session = { clientId: r.response.clientId, seq: 0 };
        return { done: { status: 'ok' } };
      }
      return this.retryable(r, state, null, 'register');
    });
    if ('done' in step && step.done.status === 'ok') return step.done;
    const why = 'done' in step && step.done.status !== 'ok' ? reasonOf(step.done) : state.lastMessage;
    return { status: 'fail', error: { code: state.lastCode, message: `could not open a session, nothing was sent: ${why}` } };
  }

  private async attempts(body: RequestBody, deadline: number, session: { clientId: string } | null): Promise<Step> {
    const state: OpState = { sentUnknown: false, lastCode: 'unavailable', lastMessage: 'no node answered' };
    // The largest id keeps the measure an upper bound of every frame this request can become.
    const bytes = Buffer.byteLength(JSON.stringify({ ...body, v: PROTOCOL_VERSION, id: Number.MAX_SAFE_INTEGER }));
    if (bytes > this.o.frameBytesMax) {
      return {
        done: {
          status: 'fail',
          error: {
            code: 'bad_request',
            message: `the request is ${bytes} bytes, more than the ${this.o.frameBytesMax} a frame may carry; nothing was sent`,
          },
        },
      };
    }
    return this.retry(deadline, state, async (timeoutMs) => {
      const r = await this.attempt(body, timeoutMs);
      if (r.kind === 'response') {
        const final = this.decide(body, r.response, state, session);
        if (final !== null) return final;
      }
      return this.retryable(r, state, session, body.op);
    });
  }

  /**
   * Runs attempts with p-retry until one returns a Step, the deadline passes, or retries run out.
   * A Step an attempt returned is kept here, not trusted to p-retry's return path, so that no
   * answer that arrived can be lost to a deadline check racing with it.
   */
  private async retry(deadline: number, state: OpState, attempt: (timeoutMs: number) => Promise<Step>): Promise<Step> {
    const remaining = () => deadline - this.o.now();
    let final: Step | null = null;
    try {
      return await pRetry(
        async () => {
          const left = remaining();
          if (left <= 0 || this.closed) throw new AbortError(new DeadlineReached());
          final = await attempt(Math.min(this.o.attemptMsMax, left));
          return final;
        },
        {
          retries: this.o.retriesMax,
          minTimeout: this.o.backoffMsMin,
          maxTimeout: this.o.backoffMsMax,
          factor: 2,
          randomize: true,
          // Caps each backoff sleep at the time left, so the deadline holds.
          maxRetryTime: Math.max(1, remaining()),
          shouldRetry: ({ error }) => error instanceof AttemptFailed,
        },
      );
    } catch (err) {
      if (final !== null) return final;
      if (!(err instanceof AttemptFailed) && !(err instanceof DeadlineReached)) throw err;
      return { done: this.giveUp(state) };
    }
  }

  private giveUp(state: OpState): Outcome {
    if (state.sentUnknown)
      return { status: 'indeterminate', reason: `deadline or retries exhausted after an unknown attempt: ${state.lastMessage}` };
    return {
      status: 'fail',
      error: { code: state.lastCode, message: `no attempt reached a node that could serve it: ${state.lastMessage}` },
    };
  }

  /** A response that ends the operation (or asks for a new session), or null to retry. */
  private decide(body: RequestBody, response: ClientResponse, state: OpState, session: { clientId: string } | null): Step | null {
    if (response.ok) {
      const ok = okOutcome(body, response);
      if (ok !== null) return { done: ok };
      // An ok that lacks what the op needs is garbage; treat as lost (handled by retryable).
      state.sentUnknown = true;
      state.lastCode = 'internal';
      state.lastMessage = `node answered ok without the fields a ${body.op} needs`;
      return null;
    }
    const e = response.error;
    switch (e.code) {
      case 'cas_mismatch':
      case 'rejected':
      case 'bad_request':
      case 'stale_seq':
      case 'unauthorized':
      case 'refused':
        // With a session, the node answered for the one application of this seq (a retry gets
        // the cached result), so the answer is the operation's. Without one, an earlier attempt
        // may have applied and changed what this attempt saw.
        if (session !== null || !state.sentUnknown) return { done: failOf(e) };
        return { done: { status: 'indeterminate', reason: `${e.code} after an earlier attempt of unknown fate` } };
      case 'session_expired':
        if (session === null)
          return {
            done: state.sentUnknown ? { status: 'indeterminate', reason: 'session_expired on a request without a session' } : failOf(e),
          };
        if (!state.sentUnknown) return { sessionExpired: true };
        this.session = null;
        return { done: { status: 'indeterminate', reason: 'session expired after an attempt of unknown fate' } };
      default:
        return null;
    }
  }

  /** Records a failed attempt and throws to retry, or ends the operation when retrying is unsafe. */
  private retryable(r: RoundResult, state: OpState, session: { clientId: string } | null, op: string): Step {
    let unknown: boolean;
    if (r.kind === 'response' && !r.response.ok) {
      const e = r.response.error;
      state.lastCode = e.code;
      state.lastMessage = `${e.code}: ${e.message}`;
      unknown = e.code === 'timeout' || e.code === 'internal';
      this.follow(e);
    } else if (r.kind === 'response') {
      unknown = true; // ok without its fields: decide() already recorded why
      this.dropLeader();
    } else {
      state.lastCode = r.kind === 'not-sent' ? 'unavailable' : 'timeout';
      state.lastMessage = describe(r);
      unknown = r.kind !== 'not-sent';
      this.dropLeader();
    }
    if (unknown) state.sentUnknown = true;
    if (r.kind === 'not-sent' && r.refusedBy !== undefined && this.o.giveUpWhenAllRefused) return { done: this.giveUp(state) };
    const write = op === 'put' || op === 'delete' || op === 'cas' || ADMIN_CHANGES.has(op);
    if (unknown && write && session === null) {
      return { done: { status: 'indeterminate', reason: `${state.lastMessage} (no session, so not retried)` } };
    }
    throw new AttemptFailed(state.lastCode, state.lastMessage);
  }

  private follow(e: ErrorBody): void {
    if (e.code === 'not_leader') {
      if (typeof e.leader === 'string' && e.leader !== this.leader) this.leader = e.leader;
      else this.dropLeader();
    } else if (e.code !== 'overloaded') {
      this.dropLeader();
    }
  }

  private dropLeader(): void {
    this.leader = null;
    this.cursor = (this.cursor + 1) % this.o.endpoints.length;
  }

  /**
   * One attempt: on the leader if known, else on the endpoint under the cursor. A refused
   * connection means nothing listens there, so the next endpoint is tried at once, within the
   * same attempt, until one accepts or all have refused (`refusedBy` then names them).
   */
  private async attempt(body: RequestBody, timeoutMs: number): Promise<RoundResult> {
    const until = performance.now() + timeoutMs;
    const refusedBy = new Set<string>();
    // Each pass adds an endpoint to refusedBy or returns; the leader's address may be one more.
    for (let pass = 0; pass <= this.o.endpoints.length; pass++) {
      const endpoint = this.leader ?? this.o.endpoints[this.cursor]!;
      const r = await this.connection(endpoint).request(body, Math.max(1, until - performance.now()));
      if (r.kind !== 'not-sent' || r.refused !== true) return r;
      refusedBy.add(endpoint);
      this.dropLeader();
      if (this.o.endpoints.every((e) => refusedBy.has(e))) break;
    }
    const all = [...refusedBy];
    return { kind: 'not-sent', reason: `connection refused by every endpoint: ${all.join(', ')}`, refused: true, refusedBy: all };
  }

  /** One status request to one endpoint, for statusAll and healthAll. */
  private probe(endpoint: string): Promise<AttemptResult> {
    return this.connection(endpoint).request({ op: 'status' }, this.o.attemptMsMax);
  }

  private connection(endpoint: string): Connection {
    if (this.o.pool !== undefined) return this.o.pool.connection(endpoint, this.o.frameBytesMax, this.o.attemptMsMax);
    let c = this.connections.get(endpoint);
    if (c === undefined || c.closed) {
      c = new Connection({ endpoint, frameBytesMax: this.o.frameBytesMax, tls: this.o.tls }, this.o.attemptMsMax);
      this.connections.set(endpoint, c);
    }
    return c;
  }
}

/** An attempt's result; `refusedBy`: every endpoint refused the connection, these ones. */
type RoundResult =
  | Exclude<AttemptResult, { kind: 'not-sent' }>
  | (Extract<AttemptResult, { kind: 'not-sent' }> & { readonly refusedBy?: readonly string[] });

function statusOf(endpoint: string, r: AttemptResult): StatusOutcome {
  if (r.kind === 'response' && r.response.ok && r.response.status) return { endpoint, ok: true, status: r.response.status };
  if (r.kind === 'response' && !r.response.ok)
    return { endpoint, ok: false, message: `${r.response.error.code}: ${r.response.error.message}` };
  if (r.kind === 'response') return { endpoint, ok: false, message: 'answered ok without a status' };
  return { endpoint, ok: false, message: describe(r) };
}

/** How many times saveSnapshot starts again when the node's snapshot changes under it. */
const SNAPSHOT_READ_RESTARTS_MAX = 4;

/** Admin ops that change something: like a sessionless write, not retried once their fate is unknown. */
const ADMIN_CHANGES: ReadonlySet<string> = new Set(ADMIN_OPS.filter((op) => op !== 'member-list' && op !== 'snapshot-read'));

function okOutcome(body: RequestBody, r: ClientResponse & { ok: true }): Outcome | null {
  switch (body.op) {
    case 'member-list':
    case 'member-add':
      return r.members === undefined ? null : { status: 'ok', members: r.members };
    case 'member-promote':
    case 'member-remove':
    case 'member-replace':
    case 'snapshot-now':
      return r.index === undefined ? null : { status: 'ok', index: r.index };
    case 'get':
      return r.value === undefined ? null : { status: 'ok', value: r.value };
    case 'put':
    case 'delete':
    case 'cas':
      return r.prev === undefined ? null : { status: 'ok', prev: r.prev };
    default:
      return { status: 'ok' };
  }
}

function failOf(e: ErrorBody): Outcome {
  return {
    status: 'fail',
    error: e.current !== undefined ? { code: e.code, message: e.message, current: e.current } : { code: e.code, message: e.message },
  };
}

function finalOf(step: Step): Outcome {
  // Only sessioned writes can see sessionExpired; reads and sessionless writes carry no session.
  assert('done' in step, 'session_expired without a session');
  return step.done;
}

function reasonOf(o: Outcome): string {
  return o.status === 'fail' ? o.error.message : o.status === 'indeterminate' ? o.reason : 'ok';
}

function describe(r: AttemptResult): string {
  switch (r.kind) {
    case 'not-sent':
      return `not sent: ${r.reason}`;
    case 'lost':
      return `lost after sending: ${r.reason}`;
    case 'no-reply':
      return 'no reply in time after sending';
    case 'response':
      return r.response.ok ? 'ok' : `${r.response.error.code}: ${r.response.error.message}`;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

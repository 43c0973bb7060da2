/**
 * The client wire protocol, version 1: one JSON object per WebSocket TEXT frame, requests from
 * the client, responses from the node, matched by `id`.
 *
 * Why JSON and not msgpack: keys and values are strings, so a binary encoding saves little;
 * JSON frames can be typed by hand (`wscat`), read in logs and spoken from any language or a
 * browser without a library; and strict validation of a parsed JSON value is simple to get
 * right. Peer traffic, which carries binary Raft payloads, uses msgpack instead.
 *
 * Every frame carries `v` so that a node can refuse a client of another version with a clear
 * `bad_request` instead of misreading it. Validation is strict: unknown fields, wrong types and
 * strings that cannot be encoded as UTF-8 (lone surrogates) are refused. The parse functions
 * never throw; a malformed request becomes a typed `bad_request` response.
 */

export const PROTOCOL_VERSION = 1;

/**
 * The largest frame a node's client port accepts and a client sends, by default (the node
 * closes the connection on a larger one, so a client refuses to send it: nothing would apply).
 */
export const FRAME_BYTES_MAX_DEFAULT = 1024 * 1024;

export type ReadMode = 'linearizable' | 'serializable';

/** A client session (see @kvapp/core KvSession): `clientId` comes from a `register` request. */
export interface Session {
  readonly clientId: string;
  /** >= 1; a new command uses a higher seq than the last; a retry reuses its seq. */
  readonly seq: number;
}

interface RequestBase {
  readonly v: typeof PROTOCOL_VERSION;
  /** Chosen by the client, unique among its requests in flight on one connection. */
  readonly id: number;
}

export type ClientRequest =
  | (RequestBase & { readonly op: 'get'; readonly key: string; readonly read?: ReadMode })
  | (RequestBase & { readonly op: 'put'; readonly key: string; readonly value: string; readonly session?: Session })
  | (RequestBase & { readonly op: 'delete'; readonly key: string; readonly session?: Session })
  | (RequestBase & {
      readonly op: 'cas';
      readonly key: string;
      /** null: succeed only if the key is absent. */
      readonly expected: string | null;
      readonly value: string;
      readonly session?: Session;
    })
  /** Opens a session; not idempotent (a retry only wastes a session slot). */
  | (RequestBase & { readonly op: 'register' })
  /** This node's view of the cluster; answered by any node, leader or not. */
  | (RequestBase & { readonly op: 'status' })
  // Admin requests (see README.md, "Membership"): answered by the leader, refused `unauthorized`
  // without the node's admin token (or, with TLS, a client certificate the node trusts).
  /** Every member: addresses, voter or learner, and (from the leader) its replication match and lag. */
  | (RequestBase & { readonly op: 'member-list'; readonly token?: string })
  /** Adds `node` as a learner; its addresses travel in the log to every member. */
  | (RequestBase & {
      readonly op: 'member-add';
      readonly node: number;
      readonly peer: string;
      readonly client: string;
      readonly token?: string;
    })
  /** Makes learner `node` a voter; refused while it lags the leader by more than the node's bound. */
  | (RequestBase & { readonly op: 'member-promote'; readonly node: number; readonly token?: string })
  /** Removes voter or learner `node` (the leader too: it steps down once the removal is known). */
  | (RequestBase & { readonly op: 'member-remove'; readonly node: number; readonly token?: string })
  /**
   * Replaces voter `node` by learner `by` in one joint change (thesis §4.3): the two sets vote
   * together until the leader leaves the joint configuration. Answered once both have applied.
   */
  | (RequestBase & { readonly op: 'member-replace'; readonly node: number; readonly by: number; readonly token?: string })
  /** Hands leadership to voter `node`; answered once the transfer started, not finished. */
  | (RequestBase & { readonly op: 'leader-transfer'; readonly node: number; readonly token?: string })
  /** Snapshots the answering node's applied state and compacts its log now (clients send it to the leader). */
  | (RequestBase & { readonly op: 'snapshot-now'; readonly token?: string })
  /**
   * A chunk of the snapshot file the answering node holds, from byte `offset` (at most
   * SNAPSHOT_CHUNK_BYTES_MAX bytes). Answered by any node (the one that took the snapshot, for
   * `kvapp snapshot save`). After the first chunk the client names the snapshot it is reading
   * (`index` and `checksum` from the first answer): the node answers `refused` if it holds
   * another one by then, and the client starts again.
   */
  | (RequestBase & {
      readonly op: 'snapshot-read';
      readonly offset: number;
      readonly index?: number;
      readonly checksum?: string;
      readonly token?: string;
    });

export type ClientOp = ClientRequest['op'];

/** The ops that need the admin token; every other op is open to any client. */
export const ADMIN_OPS: readonly ClientOp[] = [
  'member-list',
  'member-add',
  'member-promote',
  'member-remove',
  'member-replace',
  'leader-transfer',
  'snapshot-now',
  'snapshot-read',
];

/**
 * The most raw bytes one snapshot-read answer carries: base64 makes them 4/3 as many characters,
 * so the answer stays well under FRAME_BYTES_MAX_DEFAULT.
 */
export const SNAPSHOT_CHUNK_BYTES_MAX = 512 * 1024;

/**
 * Which snapshot a snapshot-read answer is a chunk of: the node's snapshot file at log `index`
 * (taken in `term`), `bytes` long, whose SHA-256 (lowercase hex, of the whole file) is `checksum`.
 */
export interface SnapshotInfo {
  readonly index: number;
  readonly term: number;
  readonly bytes: number;
  readonly checksum: string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Standard base64 with padding (what Buffer.toString('base64') writes). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** voter; learner (gets the log, does not vote); leaving: a voter of the old side of a joint change only. */
export type MemberRole = 'voter' | 'learner' | 'leaving';

/** One member, as the leader sees it. */
export interface MemberInfo {
  readonly id: number;
  /** 'host:port'; null when the answering node knows none (not configured, not in the log). */
  readonly peer: string | null;
  readonly client: string | null;
  readonly role: MemberRole;
  readonly leader: boolean;
  /** The highest log index known to be on that member; null when the answering node does not lead. */
  readonly match: number | null;
  /** The leader's last index minus match; null as match. */
  readonly lag: number | null;
}

/** Request without `v` and `id`: what a caller of the client library builds. */
export type RequestBody = ClientRequest extends infer R ? (R extends ClientRequest ? Omit<R, 'v' | 'id'> : never) : never;

export interface NodeStatus {
  readonly nodeId: number;
  readonly role: string;
  readonly term: number;
  /** The leader's CLIENT address ('host:port'), null when unknown or not configured. */
  readonly leader: string | null;
  /** The leader's node id, null when this node knows no leader. */
  readonly leaderId: number | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
}

/**
 * Error codes, and what each says about the attempt that got it (see README.md, "Outcomes"):
 * - not applied by this attempt: not_leader, unavailable, overloaded, bad_request (checked
 *   before proposing); cas_mismatch, rejected, stale_seq (evaluated in the log, changed nothing).
 * - admin requests: unauthorized (no valid token; nothing done); refused (the cluster will not
 *   make this change now: another change is pending, the learner lags, the change is invalid).
 * - unknown: timeout (proposed or sent, no result in time, incl. leadership lost after
 *   proposing), internal; session_expired (this entry changed nothing, but an earlier attempt
 *   with the same seq may have applied before the session expired).
 */
export type ErrorCode =
  | 'not_leader'
  | 'unavailable'
  | 'overloaded'
  | 'bad_request'
  | 'cas_mismatch'
  | 'rejected'
  | 'stale_seq'
  | 'session_expired'
  | 'timeout'
  | 'internal'
  | 'unauthorized'
  | 'refused';

export const ERROR_CODES: readonly ErrorCode[] = [
  'not_leader',
  'unavailable',
  'overloaded',
  'bad_request',
  'cas_mismatch',
  'rejected',
  'stale_seq',
  'session_expired',
  'timeout',
  'internal',
  'unauthorized',
  'refused',
];

export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
  /** not_leader: the leader's client address, null when this node knows no leader. */
  readonly leader?: string | null;
  /** cas_mismatch: the value found instead of `expected` (null: absent). */
  readonly current?: string | null;
}

/** What a handler answers; the server adds `v` and `id`. */
export type ClientResult =
  | {
      readonly ok: true;
      /** get: the value read (null: absent). */
      readonly value?: string | null;
      /** put, delete, cas: the value before (null: absent). */
      readonly prev?: string | null;
      /** register: the new session's client id. */
      readonly clientId?: string;
      /** status: this node's view. */
      readonly status?: NodeStatus;
      /** member-list, member-add: the members (after the addition, for member-add). */
      readonly members?: readonly MemberInfo[];
      /** member-promote, member-remove: the log index of the change; snapshot-now: the index covered. */
      readonly index?: number;
      /** snapshot-read: the snapshot the chunk belongs to. */
      readonly snapshot?: SnapshotInfo;
      /** snapshot-read: the chunk's bytes, base64 (empty at the end of the file). */
      readonly data?: string;
    }
  | { readonly ok: false; readonly error: ErrorBody };

/** `id` is null only when a request was too malformed to read its id. */
export type ClientResponse = { readonly v: typeof PROTOCOL_VERSION; readonly id: number | null } & ClientResult;

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

// ---------------------------------------------------------------------------------------------
// Small checks. Each returns an error message or null.

/** JSON can carry lone surrogates ("\ud800"), which cannot become UTF-8 in the log. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}

function checkString(x: unknown, what: string): string | null {
  if (typeof x !== 'string') return `${what} must be a string`;
  if (LONE_SURROGATE.test(x)) return `${what} has a lone surrogate`;
  return null;
}

function checkNullableString(x: unknown, what: string): string | null {
  return x === null ? null : checkString(x, what);
}

function checkCount(x: unknown, what: string, min: number): string | null {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < min) return `${what} must be an integer >= ${min}`;
  return null;
}

function checkFields(o: Record<string, unknown>, required: readonly string[], optional: readonly string[]): string | null {
  for (const name of required) if (!Object.hasOwn(o, name)) return `missing field "${name}"`;
  for (const name of Object.keys(o)) {
    if (!required.includes(name) && !optional.includes(name)) return `unknown field "${name}"`;
  }
  return null;
}

function checkSession(x: unknown): string | null {
  if (!isPlainObject(x)) return 'session must be an object';
  return (
    checkFields(x, ['clientId', 'seq'], []) ?? checkString(x['clientId'], 'session.clientId') ?? checkCount(x['seq'], 'session.seq', 1)
  );
}

const REQUEST_FIELDS: Record<ClientOp, { required: readonly string[]; optional: readonly string[] }> = {
  get: { required: ['key'], optional: ['read'] },
  put: { required: ['key', 'value'], optional: ['session'] },
  delete: { required: ['key'], optional: ['session'] },
  cas: { required: ['key', 'expected', 'value'], optional: ['session'] },
  register: { required: [], optional: [] },
  status: { required: [], optional: [] },
  'member-list': { required: [], optional: ['token'] },
  'member-add': { required: ['node', 'peer', 'client'], optional: ['token'] },
  'member-promote': { required: ['node'], optional: ['token'] },
  'member-remove': { required: ['node'], optional: ['token'] },
  'member-replace': { required: ['node', 'by'], optional: ['token'] },
  'leader-transfer': { required: ['node'], optional: ['token'] },
  'snapshot-now': { required: [], optional: ['token'] },
  'snapshot-read': { required: ['offset'], optional: ['index', 'checksum', 'token'] },
};

const OPS = Object.keys(REQUEST_FIELDS) as ClientOp[];

/** 'host:port', '[v6]:port': what a member's address must look like (resolved by whoever dials it). */
const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):([1-9][0-9]{0,4})$/;

function checkRequestBody(o: Record<string, unknown>, op: ClientOp): string | null {
  const fields = REQUEST_FIELDS[op];
  const shape = checkFields(o, ['v', 'id', 'op', ...fields.required], fields.optional);
  if (shape !== null) return shape;
  if (Object.hasOwn(o, 'key')) {
    const e = checkString(o['key'], 'key');
    if (e !== null) return e;
  }
  if (Object.hasOwn(o, 'value')) {
    const e = checkString(o['value'], 'value');
    if (e !== null) return e;
  }
  if (Object.hasOwn(o, 'expected')) {
    const e = checkNullableString(o['expected'], 'expected');
    if (e !== null) return e;
  }
  if (Object.hasOwn(o, 'session')) {
    const e = checkSession(o['session']);
    if (e !== null) return e;
  }
  for (const name of ['node', 'by'] as const) {
    if (!Object.hasOwn(o, name)) continue;
    const e = checkCount(o[name], name, 1);
    if (e !== null) return e;
  }
  for (const name of ['peer', 'client'] as const) {
    if (!Object.hasOwn(o, name)) continue;
    const e = checkString(o[name], name) ?? (HOST_PORT.test(o[name] as string) ? null : `${name} must be 'host:port'`);
    if (e !== null) return e;
  }
  if (Object.hasOwn(o, 'token')) {
    const e = checkString(o['token'], 'token');
    if (e !== null) return e;
  }
  if (Object.hasOwn(o, 'offset')) {
    const e = checkCount(o['offset'], 'offset', 0);
    if (e !== null) return e;
  }
  if (Object.hasOwn(o, 'index')) {
    const e = checkCount(o['index'], 'index', 1);
    if (e !== null) return e;
  }
  if (Object.hasOwn(o, 'checksum') && !(typeof o['checksum'] === 'string' && SHA256_HEX.test(o['checksum']))) {
    return 'checksum must be 64 lowercase hex digits (SHA-256)';
  }
  if (op === 'snapshot-read' && Object.hasOwn(o, 'checksum') !== Object.hasOwn(o, 'index')) {
    return 'index and checksum name a snapshot together: give both or neither';
  }
  if (Object.hasOwn(o, 'read') && o['read'] !== 'linearizable' && o['read'] !== 'serializable') {
    return 'read must be "linearizable" or "serializable"';
  }
  return null;
}

/** The request's id if it has a usable one, so that even a refusal can be matched. */
function readableId(x: unknown): number | null {
  if (!isPlainObject(x)) return null;
  const id = x['id'];
  return checkCount(id, 'id', 0) === null ? (id as number) : null;
}

export function badRequest(id: number | null, message: string): ClientResponse {
  return { v: PROTOCOL_VERSION, id, ok: false, error: { code: 'bad_request', message } };
}

// ---------------------------------------------------------------------------------------------
// Requests (node side).

/** Validates a decoded JSON value. Never throws. */
export function validateRequest(x: unknown): { ok: true; request: ClientRequest } | { ok: false; response: ClientResponse } {
  const id = readableId(x);
  const refuse = (message: string) => ({ ok: false as const, response: badRequest(id, message) });
  if (!isPlainObject(x)) return refuse('a request must be a JSON object');
  if (x['v'] !== PROTOCOL_VERSION)
    return refuse(`unsupported protocol version ${JSON.stringify(x['v'] ?? null)}, this node speaks ${PROTOCOL_VERSION}`);
  if (id === null) return refuse('id must be an integer >= 0');
  const op = x['op'];
  if (typeof op !== 'string' || !OPS.includes(op as ClientOp)) return refuse(`op must be one of ${OPS.join(', ')}`);
  const e = checkRequestBody(x, op as ClientOp);
  if (e !== null) return refuse(e);
  return { ok: true, request: x as unknown as ClientRequest };
}

/** Parses and validates one text frame. Never throws. */
export function parseRequest(text: string): { ok: true; request: ClientRequest } | { ok: false; response: ClientResponse } {
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch {
    return { ok: false, response: badRequest(null, 'frame is not valid JSON') };
  }
  return validateRequest(x);
}

export function encodeRequest(request: ClientRequest): string {
  return JSON.stringify(request);
}

export function encodeResponse(response: ClientResponse): string {
  return JSON.stringify(response);
}

// ---------------------------------------------------------------------------------------------
// Responses (client side): a node's answer is validated as strictly as a request.

function checkStatus(x: unknown): string | null {
  if (!isPlainObject(x)) return 'status must be an object';
  const fields = ['nodeId', 'role', 'term', 'leader', 'leaderId', 'commitIndex', 'appliedIndex'];
  return (
    checkFields(x, fields, []) ??
    checkCount(x['nodeId'], 'status.nodeId', 0) ??
    checkString(x['role'], 'status.role') ??
    checkCount(x['term'], 'status.term', 0) ??
    checkNullableString(x['leader'], 'status.leader') ??
    (x['leaderId'] === null ? null : checkCount(x['leaderId'], 'status.leaderId', 1)) ??
    checkCount(x['commitIndex'], 'status.commitIndex', 0) ??
    checkCount(x['appliedIndex'], 'status.appliedIndex', 0)
  );
}

function checkMember(x: unknown, i: number): string | null {
  const what = `members[${i}]`;
  if (!isPlainObject(x)) return `${what} must be an object`;
  const nullableCount = (v: unknown, name: string) => (v === null ? null : checkCount(v, `${what}.${name}`, 0));
  return (
    checkFields(x, ['id', 'peer', 'client', 'role', 'leader', 'match', 'lag'], []) ??
    checkCount(x['id'], `${what}.id`, 1) ??
    checkNullableString(x['peer'], `${what}.peer`) ??
    checkNullableString(x['client'], `${what}.client`) ??
    (['voter', 'learner', 'leaving'].includes(x['role'] as string) ? null : `${what}.role must be voter, learner or leaving`) ??
    (typeof x['leader'] === 'boolean' ? null : `${what}.leader must be a boolean`) ??
    nullableCount(x['match'], 'match') ??
    nullableCount(x['lag'], 'lag')
  );
}

function checkMembers(x: unknown): string | null {
  if (!Array.isArray(x)) return 'members must be an array';
  for (const [i, m] of x.entries()) {
    const e = checkMember(m, i);
    if (e !== null) return e;
  }
  return null;
}

function checkSnapshotInfo(x: unknown): string | null {
  if (!isPlainObject(x)) return 'snapshot must be an object';
  return (
    checkFields(x, ['index', 'term', 'bytes', 'checksum'], []) ??
    checkCount(x['index'], 'snapshot.index', 1) ??
    checkCount(x['term'], 'snapshot.term', 0) ??
    checkCount(x['bytes'], 'snapshot.bytes', 1) ??
    (typeof x['checksum'] === 'string' && SHA256_HEX.test(x['checksum']) ? null : 'snapshot.checksum must be 64 lowercase hex digits')
  );
}

function checkChunk(x: unknown): string | null {
  if (typeof x !== 'string' || !BASE64.test(x)) return 'data must be base64';
  // 4 characters carry 3 bytes: a longer chunk than a node sends is refused before decoding.
  if ((x.length / 4) * 3 > SNAPSHOT_CHUNK_BYTES_MAX + 2) return `data carries more than ${SNAPSHOT_CHUNK_BYTES_MAX} bytes`;
  return null;
}

function checkError(x: unknown): string | null {
  if (!isPlainObject(x)) return 'error must be an object';
  const shape = checkFields(x, ['code', 'message'], ['leader', 'current']);
  if (shape !== null) return shape;
  if (!ERROR_CODES.includes(x['code'] as ErrorCode)) return `unknown error code ${JSON.stringify(x['code'])}`;
  return (
    checkString(x['message'], 'error.message') ??
    (Object.hasOwn(x, 'leader') ? checkNullableString(x['leader'], 'error.leader') : null) ??
    (Object.hasOwn(x, 'current') ? checkNullableString(x['current'], 'error.current') : null)
  );
}

function checkOkBody(x: Record<string, unknown>): string | null {
  const shape = checkFields(x, ['v', 'id', 'ok'], ['value', 'prev', 'clientId', 'status', 'members', 'index', 'snapshot', 'data']);
  if (shape !== null) return shape;
  return (
    (Object.hasOwn(x, 'value') ? checkNullableString(x['value'], 'value') : null) ??
    (Object.hasOwn(x, 'prev') ? checkNullableString(x['prev'], 'prev') : null) ??
    (Object.hasOwn(x, 'clientId') ? checkString(x['clientId'], 'clientId') : null) ??
    (Object.hasOwn(x, 'status') ? checkStatus(x['status']) : null) ??
    (Object.hasOwn(x, 'members') ? checkMembers(x['members']) : null) ??
    (Object.hasOwn(x, 'index') ? checkCount(x['index'], 'index', 0) : null) ??
    (Object.hasOwn(x, 'snapshot') ? checkSnapshotInfo(x['snapshot']) : null) ??
    (Object.hasOwn(x, 'data') ? checkChunk(x['data']) : null) ??
    (Object.hasOwn(x, 'data') !== Object.hasOwn(x, 'snapshot') ? 'data and snapshot come together' : null)
  );
}

/** Parses and validates a node's response frame. Never throws. */
export function parseResponse(text: string): Parsed<ClientResponse> {
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch {
    return { ok: false, message: 'response is not valid JSON' };
  }
  if (!isPlainObject(x)) return { ok: false, message: 'response must be a JSON object' };
  if (x['v'] !== PROTOCOL_VERSION) return { ok: false, message: `unsupported protocol version ${JSON.stringify(x['v'] ?? null)}` };
  if (x['id'] !== null && checkCount(x['id'], 'id', 0) !== null) return { ok: false, message: 'id must be an integer >= 0 or null' };
  let e: string | null;
  if (x['ok'] === true) e = checkOkBody(x);
  else if (x['ok'] === false) e = checkFields(x, ['v', 'id', 'ok', 'error'], []) ?? checkError(x['error']);
  else e = 'ok must be a boolean';
  if (e !== null) return { ok: false, message: e };
  return { ok: true, value: x as unknown as ClientResponse };
}

export function errorResponse(id: number | null, error: ErrorBody): ClientResponse {
  return { v: PROTOCOL_VERSION, id, ok: false, error };
}

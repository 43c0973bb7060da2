import { ByteReader, ByteWriter, utf8Length } from './bytes.js';
import { checkKvOptions, type KvOptions } from './options.js';
import type { KvRejectCode, KvResult } from './result.js';
import type { SessionRecord } from './sessions.js';
import type { MemberAddresses } from '../raft/conf-change.js';
import type { NodeId } from '../raft/types.js';

/**
 * The KV state machine's snapshot: everything `apply` depends on, so a restored replica answers
 * every later entry exactly as the original would (sessions included, so deduplication survives).
 *
 * Layout, version 2 (varints and strings as in bytes.ts):
 *   "KVS" u8 version | varint appliedIndex | varint clockMs
 *   varint keyBytesMax | varint valueBytesMax | varint sessionsMax | varint sessionIdleMsMax
 *   varint nKeys, then nKeys × (string key | string value), keys strictly ascending
 *   varint nSessions, then nSessions × (string clientId | varint lastSeq | varint lastActiveMs | result),
 *     least recently used first
 *   version 2 adds (written only when there are members, else version 1): varint nMembers, then nMembers × (varint nodeId | string peer | string client),
 *     ids strictly ascending (version 1 has no members)
 *   result: u8 tag (0 none | 1 ok | 2 registered | 3 cas-mismatch | 4 session-expired | 5 stale-seq | 6 rejected) + fields
 * Sorted keys make the bytes a function of the state alone: two replicas in the same state
 * produce identical snapshots.
 */
export interface KvSnapshotState {
  readonly appliedIndex: number;
  readonly clockMs: number;
  readonly options: KvOptions;
  /** Ascending by key. */
  readonly data: ReadonlyArray<readonly [string, string]>;
  readonly sessions: readonly SessionRecord[];
  /** Members' addresses learned from the log, ascending by id. */
  readonly members: ReadonlyArray<readonly [NodeId, MemberAddresses]>;
}

export class KvSnapshotError extends Error {
  readonly code = 'KV_BAD_SNAPSHOT' as const;
  constructor(message: string) {
    super(message);
    this.name = 'KvSnapshotError';
  }
}

export const KV_SNAPSHOT_VERSION = 2;
const MAGIC = [0x4b, 0x56, 0x53]; // "KVS"
const rejectCodes: readonly KvRejectCode[] = ['KV_KEY_TOO_LARGE', 'KV_VALUE_TOO_LARGE', 'KV_BAD_COMMAND'];

export function encodeSnapshot(s: KvSnapshotState): Uint8Array {
  // Version 1 while no member addresses are kept: a node of an earlier release can still read it.
  const version = s.members.length > 0 ? KV_SNAPSHOT_VERSION : 1;
  // Sized up front (in UTF-16 units, exact for ASCII): no regrowth copies of a large state.
  let estimate = 1024 + 64 * (s.sessions.length + s.members.length);
  for (const [k, v] of s.data) estimate += k.length + v.length + 10;
  const w = new ByteWriter(estimate);
  for (const b of MAGIC) w.u8(b);
  w.u8(version).varint(s.appliedIndex).varint(s.clockMs);
  const o = s.options;
  w.varint(o.keyBytesMax).varint(o.valueBytesMax).varint(o.sessionsMax).varint(o.sessionIdleMsMax);
  w.varint(s.data.length);
  for (const [k, v] of s.data) w.string(k).string(v);
  w.varint(s.sessions.length);
  for (const rec of s.sessions) {
    w.string(rec.clientId).varint(rec.lastSeq).varint(rec.lastActiveMs);
    writeResult(w, rec.result);
  }
  if (version >= 2) {
    w.varint(s.members.length);
    for (const [id, a] of s.members) w.varint(id).string(a.peer).string(a.client);
  }
  return w.finish();
}

function writeResult(w: ByteWriter, r: KvResult | null): void {
  if (r === null) {
    w.u8(0);
    return;
  }
  switch (r.type) {
    case 'ok':
      w.u8(1);
      writeNullable(w, r.value);
      return;
    case 'registered':
      w.u8(2).string(r.clientId);
      return;
    case 'cas-mismatch':
      w.u8(3);
      writeNullable(w, r.current);
      return;
    case 'session-expired':
      w.u8(4);
      return;
    case 'stale-seq':
      w.u8(5).varint(r.lastSeq);
      return;
    case 'rejected':
      w.u8(6).u8(rejectCodes.indexOf(r.code)).string(r.message);
      return;
  }
}

function writeNullable(w: ByteWriter, s: string | null): void {
  if (s === null) w.u8(0);
  else w.u8(1).string(s);
}

/** Throws KvSnapshotError (code KV_BAD_SNAPSHOT) on anything malformed or inconsistent. */
export function decodeSnapshot(bytes: Uint8Array): KvSnapshotState {
  if (!(bytes instanceof Uint8Array)) throw new KvSnapshotError('snapshot must be a Uint8Array');
  const fail = (m: string): KvSnapshotError => new KvSnapshotError(`malformed KV snapshot: ${m}`);
  const r = new ByteReader(bytes, fail);
  for (const b of MAGIC) if (r.u8('magic') !== b) throw fail('bad magic');
  const version = r.u8('version');
  if (version !== 1 && version !== KV_SNAPSHOT_VERSION) throw fail(`unsupported version ${version}`);
  const appliedIndex = r.varint('appliedIndex');
  const clockMs = r.varint('clockMs');
  const options: KvOptions = {
    keyBytesMax: r.varint('keyBytesMax'),
    valueBytesMax: r.varint('valueBytesMax'),
    sessionsMax: r.varint('sessionsMax'),
    sessionIdleMsMax: r.varint('sessionIdleMsMax'),
  };
  const bad = checkKvOptions(options);
  if (bad !== null) throw fail(bad);
  const data = readData(r, options, fail);
  const sessions = readSessions(r, options, clockMs, fail);
  const members = version >= 2 ? readMembers(r, fail) : [];
  r.end('snapshot');
  return { appliedIndex, clockMs, options, data, sessions, members };
}

function readMembers(r: ByteReader, fail: (m: string) => Error): Array<[NodeId, MemberAddresses]> {
  const n = r.varint('member count');
  // Each member takes at least 3 bytes.
  if (n > r.remaining / 3) throw fail(`member count ${n} exceeds what ${r.remaining} bytes can hold`);
  const members: Array<[NodeId, MemberAddresses]> = [];
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const id = r.varint('member id');
    const peer = r.string('member peer address');
    const client = r.string('member client address');
    if (!(id > prev)) throw fail(`member ids not strictly ascending at #${i}`);
    members.push([id, { peer, client }]);
    prev = id;
  }
  return members;
}

function readData(r: ByteReader, o: KvOptions, fail: (m: string) => Error): Array<[string, string]> {
  const n = r.varint('key count');
  // Each pair takes at least 2 bytes: a count beyond that is a lie, refused before any allocation.
  if (n > r.remaining / 2) throw fail(`key count ${n} exceeds what ${r.remaining} bytes can hold`);
  const data: Array<[string, string]> = [];
  let prev: string | null = null;
  for (let i = 0; i < n; i++) {
    const k = r.string('key');
    const v = r.string('value');
    if (prev !== null && !(prev < k)) throw fail(`keys not strictly ascending at #${i}`);
    if (utf8Length(k) > o.keyBytesMax) throw fail(`key #${i} exceeds keyBytesMax`);
    if (utf8Length(v) > o.valueBytesMax) throw fail(`value #${i} exceeds valueBytesMax`);
    data.push([k, v]);
    prev = k;
  }
  return data;
}

function readSessions(r: ByteReader, o: KvOptions, clockMs: number, fail: (m: string) => Error): SessionRecord[] {
  const n = r.varint('session count');
  if (n > o.sessionsMax) throw fail(`session count ${n} exceeds sessionsMax ${o.sessionsMax}`);
  const seen = new Set<string>();
  const sessions: SessionRecord[] = [];
  let prevActive = 0;
  for (let i = 0; i < n; i++) {
    const clientId = r.string('clientId');
    const lastSeq = r.varint('lastSeq');
    const lastActiveMs = r.varint('lastActiveMs');
    const result = readResult(r, fail);
    if (seen.has(clientId)) throw fail(`duplicate session ${clientId}`);
    if (lastActiveMs < prevActive || lastActiveMs > clockMs) throw fail(`session #${i} out of use order`);
    if ((lastSeq === 0) !== (result === null)) throw fail(`session #${i}: a result goes with seq >= 1`);
    seen.add(clientId);
    sessions.push({ clientId, lastSeq, lastActiveMs, result });
    prevActive = lastActiveMs;
  }
  return sessions;
}

function readNullable(r: ByteReader, what: string, fail: (m: string) => Error): string | null {
  const tag = r.u8(what);
  if (tag === 0) return null;
  if (tag === 1) return r.string(what);
  throw fail(`bad ${what} tag ${tag}`);
}

function readResult(r: ByteReader, fail: (m: string) => Error): KvResult | null {
  const tag = r.u8('result tag');
  switch (tag) {
    case 0:
      return null;
    case 1:
      return { type: 'ok', value: readNullable(r, 'ok value', fail) };
    case 2:
      return { type: 'registered', clientId: r.string('registered clientId') };
    case 3:
      return { type: 'cas-mismatch', current: readNullable(r, 'cas current', fail) };
    case 4:
      return { type: 'session-expired' };
    case 5:
      return { type: 'stale-seq', lastSeq: r.varint('stale lastSeq') };
    case 6: {
      const codeIndex = r.u8('reject code');
      const code = rejectCodes[codeIndex];
      if (code === undefined) throw fail(`bad reject code ${codeIndex}`);
      return { type: 'rejected', code, message: r.string('reject message') };
    }
    default:
      throw fail(`bad result tag ${tag}`);
  }
}

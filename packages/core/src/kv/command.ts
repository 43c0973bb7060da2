import { ByteReader, ByteWriter, isWellFormed } from './bytes.js';

/**
 * A KV command: the `data` of a Raft 'normal' entry. An empty `data` is a new leader's no-op
 * and is never decoded as a command.
 *
 * Time travels in the log: the LEADER stamps `nowMs` (its clock) when it proposes, so session
 * expiry is computed from log content alone and every replica reaches the same decisions.
 */

/**
 * A client session (Raft thesis §6.3). `clientId` must come from a committed `register`
 * command (see sessions.ts): an id the state machine does not know is an expired session,
 * never a new one. `seq` starts at 1 and grows by at least 1 per new command.
 */
export interface KvSession {
  readonly clientId: string;
  readonly seq: number;
}

interface Base {
  /** Leader's clock when proposing, milliseconds; a non-negative safe integer. */
  readonly nowMs: number;
}

interface Sessioned extends Base {
  /** null: no duplicate detection (a retry may apply twice). */
  readonly session: KvSession | null;
}

export type KvCommand =
  /** Opens a session; the answer carries the new client id. Retrying it only wastes a session slot. */
  | (Base & { readonly kind: 'register' })
  | (Sessioned & { readonly kind: 'get'; readonly key: string })
  | (Sessioned & { readonly kind: 'put'; readonly key: string; readonly value: string })
  | (Sessioned & { readonly kind: 'delete'; readonly key: string })
  | (Sessioned & {
      readonly kind: 'cas';
      readonly key: string;
      /** null: succeed only if the key is absent. */
      readonly expected: string | null;
      readonly value: string;
    });

export type KvCommandKind = KvCommand['kind'];

export class KvCommandError extends Error {
  readonly code = 'KV_BAD_COMMAND' as const;
  constructor(message: string) {
    super(message);
    this.name = 'KvCommandError';
  }
}

/**
 * Layout, version 1:
 *   u8 version (1) | u8 kind | u8 flags | varint nowMs
 *   [flags & SESSION]  string clientId | varint seq
 *   [kind != register] string key
 *   [put]              string value
 *   [cas]              [flags & EXPECTED] string expected | string value
 * Strings are varint byte length + UTF-8. Decoding is strict (unknown flags, trailing bytes,
 * overlong varints and invalid UTF-8 are rejected), so decode∘encode is the identity on bytes.
 */
export const KV_COMMAND_VERSION = 1;

const kindCodes: Record<KvCommandKind, number> = { register: 0, get: 1, put: 2, delete: 3, cas: 4 };
const kindByCode: readonly KvCommandKind[] = ['register', 'get', 'put', 'delete', 'cas'];

const FLAG_SESSION = 1;
const FLAG_EXPECTED = 2;

function checkString(s: string, what: string): void {
  if (typeof s !== 'string') throw new KvCommandError(`${what} must be a string`);
  if (!isWellFormed(s)) throw new KvCommandError(`${what} has a lone surrogate and cannot be encoded as UTF-8`);
}

function checkInt(n: number, what: string, min: number): void {
  if (!Number.isSafeInteger(n) || n < min) throw new KvCommandError(`${what} must be a safe integer >= ${min}, got ${n}`);
}

export function encodeCommand(cmd: KvCommand): Uint8Array {
  checkInt(cmd.nowMs, 'nowMs', 0);
  const w = new ByteWriter();
  const session = cmd.kind === 'register' ? null : cmd.session;
  let flags = session ? FLAG_SESSION : 0;
  if (cmd.kind === 'cas' && cmd.expected !== null) flags |= FLAG_EXPECTED;
  w.u8(KV_COMMAND_VERSION).u8(kindCodes[cmd.kind]).u8(flags).varint(cmd.nowMs);
  if (session) {
    checkString(session.clientId, 'session.clientId');
    checkInt(session.seq, 'session.seq', 1);
    w.string(session.clientId).varint(session.seq);
  }
  if (cmd.kind === 'register') return w.finish();
  checkString(cmd.key, 'key');
  w.string(cmd.key);
  if (cmd.kind === 'put') {
    checkString(cmd.value, 'value');
    w.string(cmd.value);
  } else if (cmd.kind === 'cas') {
    if (cmd.expected !== null) {
      checkString(cmd.expected, 'expected');
      w.string(cmd.expected);
    }
    checkString(cmd.value, 'value');
    w.string(cmd.value);
  }
  return w.finish();
}

/** Throws KvCommandError (code KV_BAD_COMMAND) on any malformed input; never another error type. */
export function decodeCommand(data: Uint8Array): KvCommand {
  if (!(data instanceof Uint8Array)) throw new KvCommandError('command data must be a Uint8Array');
  const r = new ByteReader(data, (m) => new KvCommandError(`malformed command: ${m}`));
  const version = r.u8('version');
  if (version !== KV_COMMAND_VERSION) throw new KvCommandError(`unsupported command version ${version}`);
  const kindCode = r.u8('kind');
  const kind = kindByCode[kindCode];
  if (kind === undefined) throw new KvCommandError(`unknown command kind ${kindCode}`);
  const flags = r.u8('flags');
  const allowed = kind === 'register' ? 0 : kind === 'cas' ? FLAG_SESSION | FLAG_EXPECTED : FLAG_SESSION;
  if ((flags & ~allowed) !== 0) throw new KvCommandError(`flags 0x${flags.toString(16)} not allowed for ${kind}`);
  const nowMs = r.varint('nowMs');
  let session: KvSession | null = null;
  if (flags & FLAG_SESSION) {
    const clientId = r.string('clientId');
    const seq = r.varint('seq');
    if (seq < 1) throw new KvCommandError('session seq must be >= 1');
    session = { clientId, seq };
  }
  const cmd = decodeBody(r, kind, flags, nowMs, session);
  r.end('command');
  return cmd;
}

function decodeBody(r: ByteReader, kind: KvCommandKind, flags: number, nowMs: number, session: KvSession | null): KvCommand {
  if (kind === 'register') return { kind, nowMs };
  const key = r.string('key');
  switch (kind) {
    case 'get':
    case 'delete':
      return { kind, nowMs, session, key };
    case 'put':
      return { kind, nowMs, session, key, value: r.string('value') };
    case 'cas': {
      const expected = flags & FLAG_EXPECTED ? r.string('expected') : null;
      return { kind, nowMs, session, key, expected, value: r.string('value') };
    }
  }
}

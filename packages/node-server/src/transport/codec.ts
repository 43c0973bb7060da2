import { Packr, Unpackr } from 'msgpackr';
import type { ConfState, Entry, EntryType, Message, MessageType, Snapshot } from '@kvapp/core';
import { TransportError } from './errors.js';

/**
 * Raft Message ⇄ one binary WebSocket frame. msgpack of a positional array (no field names on
 * the wire), version first:
 *   [1, type, from, to, term, logTerm, index, commit, reject, rejectHint, hintTerm,
 *    context: bin|nil, entries: [[term, index, entryType, data: bin], ...],
 *    snapshot: nil | [index, term, voters[], learners[], votersOutgoing[], data: bin]]
 * Types travel as small integers. Decoding checks every field and throws TransportError
 * TRANSPORT_BAD_FRAME on anything else, never another error: a peer's frame is input, not trust.
 */
export const CODEC_VERSION = 1;

const MESSAGE_TYPES: readonly MessageType[] = [
  'append',
  'append-resp',
  'heartbeat',
  'heartbeat-resp',
  'vote',
  'vote-resp',
  'pre-vote',
  'pre-vote-resp',
  'snapshot',
  'timeout-now',
  'read-index',
  'read-index-resp',
];
const ENTRY_TYPES: readonly EntryType[] = ['normal', 'conf-change'];

// useRecords off: records are a msgpackr extension whose structures a hostile peer could define.
const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false });

export function encodeMessage(m: Message): Uint8Array {
  const snapshot =
    m.snapshot === null
      ? null
      : [
          m.snapshot.meta.index,
          m.snapshot.meta.term,
          m.snapshot.meta.conf.voters,
          m.snapshot.meta.conf.learners,
          m.snapshot.meta.conf.votersOutgoing,
          m.snapshot.data,
        ];
  return packr.pack([
    CODEC_VERSION,
    MESSAGE_TYPES.indexOf(m.type),
    m.from,
    m.to,
    m.term,
    m.logTerm,
    m.index,
    m.commit,
    m.reject,
    m.rejectHint,
    m.hintTerm,
    m.context,
    m.entries.map((e) => [e.term, e.index, ENTRY_TYPES.indexOf(e.type), e.data]),
    snapshot,
  ]);
}

const NO_DATA = new Uint8Array(0);

/**
 * The encoded frame of `m` as parts whose concatenation is encodeMessage(m), without copying a
 * snapshot's data: the data is the last value of the encoding, so the frame is the encoding with
 * empty data, its final bin header (c4 00) widened to bin32 of the data's length, then the data
 * itself. A 23 MB snapshot is then never copied on the sender's event loop.
 */
export function encodeMessageParts(m: Message): Uint8Array[] {
  // Under 64 KiB msgpack writes a shorter bin header, and a copy costs nothing worth saving.
  if (m.snapshot === null || m.snapshot.data.length < 65_536) return [encodeMessage(m)];
  const data = m.snapshot.data;
  const head = encodeMessage({ ...m, snapshot: { ...m.snapshot, data: NO_DATA } });
  const cut = head.length - 2;
  if (head[cut] !== 0xc4 || head[cut + 1] !== 0) throw new Error('encodeMessageParts: the encoding does not end with the empty data');
  const prefix = new Uint8Array(cut + 5);
  prefix.set(head.subarray(0, cut));
  prefix[cut] = 0xc6;
  new DataView(prefix.buffer).setUint32(cut + 1, data.length);
  return [prefix, data];
}

function bad(what: string): never {
  throw new TransportError('TRANSPORT_BAD_FRAME', `bad frame: ${what}`);
}

function uint(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) bad(`${what} must be an integer >= 0`);
  return x;
}

/** A private copy: msgpackr may hand out views of its input buffer. */
function bytes(x: unknown, what: string): Uint8Array {
  if (!(x instanceof Uint8Array)) bad(`${what} must be bytes`);
  return new Uint8Array(x);
}

function array(x: unknown, what: string, length?: number): unknown[] {
  if (!Array.isArray(x)) bad(`${what} must be an array`);
  if (length !== undefined && x.length !== length) bad(`${what} must have ${length} items, has ${x.length}`);
  return x;
}

function nodeIds(x: unknown, what: string): number[] {
  return array(x, what).map((id, i) => uint(id, `${what}[${i}]`));
}

function entry(x: unknown, i: number): Entry {
  const [term, index, type, data] = array(x, `entries[${i}]`, 4);
  const t = ENTRY_TYPES[uint(type, `entries[${i}].type`)];
  if (t === undefined) bad(`entries[${i}].type unknown`);
  return {
    term: uint(term, `entries[${i}].term`),
    index: uint(index, `entries[${i}].index`),
    type: t,
    data: bytes(data, `entries[${i}].data`),
  };
}

function snapshot(x: unknown): Snapshot | null {
  if (x === null) return null;
  const [index, term, voters, learners, votersOutgoing, data] = array(x, 'snapshot', 6);
  const conf: ConfState = {
    voters: nodeIds(voters, 'voters'),
    learners: nodeIds(learners, 'learners'),
    votersOutgoing: nodeIds(votersOutgoing, 'votersOutgoing'),
  };
  return { meta: { index: uint(index, 'snapshot.index'), term: uint(term, 'snapshot.term'), conf }, data: bytes(data, 'snapshot.data') };
}

function unpack(frame: Uint8Array): unknown {
  try {
    return unpackr.unpack(frame);
  } catch (err) {
    return bad(`not msgpack (${(err as Error).message.slice(0, 80)})`);
  }
}

export function decodeMessage(frame: Uint8Array): Message {
  if (!(frame instanceof Uint8Array)) bad('frame must be bytes');
  const f = array(unpack(frame), 'message', 14);
  if (f[0] !== CODEC_VERSION) bad(`unsupported codec version ${String(f[0])}`);
  const type = MESSAGE_TYPES[uint(f[1], 'type')];
  if (type === undefined) bad(`unknown message type ${String(f[1])}`);
  if (typeof f[8] !== 'boolean') bad('reject must be a boolean');
  return {
    type,
    from: uint(f[2], 'from'),
    to: uint(f[3], 'to'),
    term: uint(f[4], 'term'),
    logTerm: uint(f[5], 'logTerm'),
    index: uint(f[6], 'index'),
    commit: uint(f[7], 'commit'),
    reject: f[8],
    rejectHint: uint(f[9], 'rejectHint'),
    hintTerm: uint(f[10], 'hintTerm'),
    context: f[11] === null ? null : bytes(f[11], 'context'),
    entries: array(f[12], 'entries').map(entry),
    snapshot: snapshot(f[13]),
  };
}

import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { HistoryError } from './history-error.js';
import type {
  EventType,
  History,
  HistoryEvent,
  OpFunction,
  OpStatus,
  Operation,
  ProcessId,
  Value,
} from './history.js';
import { fCas, fRead, fWrite } from './kv-model.js';
import { emptyTable, rowFail, rowInfo, rowMismatch, rowOk, tableOf, type MutableOpTable, type OpTable } from './op-table.js';

const eventTypes: ReadonlySet<string> = new Set(['invoke', 'ok', 'fail', 'info']);
const functions: ReadonlySet<string> = new Set(['read', 'write', 'cas']);

/** Reads a history from a file (`.jsonl`, or gzip, recognised by its magic bytes) or `-` for stdin. */
export async function readHistoryFile(path: string): Promise<History> {
  let bytes: Buffer;
  try {
    bytes = path === '-' ? await readStream(process.stdin) : await readFile(path);
  } catch (err) {
    throw new HistoryError('HISTORY_UNREADABLE', 0, `cannot read ${path}: ${(err as Error).message}`);
  }
  return parseBytes(decode(bytes, path));
}

function decode(bytes: Buffer, path: string): Buffer {
  const gzip = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (!gzip) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new HistoryError('HISTORY_UNREADABLE', 0, `cannot gunzip ${path}: ${(err as Error).message}`);
  }
}

async function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/** Parses and validates JSON Lines text. Blank lines are skipped. Throws HistoryError. */
export function parseHistory(text: string): History {
  return parseBytes(Buffer.from(text, 'utf8'));
}

/** Parses and validates JSON Lines (UTF-8 bytes). */
function parseBytes(bytes: Buffer): History {
  // Events go into columns, not objects, and operations into an OpTable: `events` and `operations`
  // are built only if someone asks for them (the check needs only the table).
  let lines = 1;
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) lines++;
  const cols = new Columns(lines);
  const parser = new LineParser(bytes, cols);
  let start = 0;
  let lineNo = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    lineNo++;
    if (!(bytes[start] === 0x7b && parser.event(start, end, lineNo))) {
      const raw = bytes.toString('utf8', start, end);
      if (raw.trim() !== '') cols.pushEvent(parseEvent(raw, lineNo));
    }
    start = end + 1;
  }
  return new ReadHistory(cols);
}

const typeCode: Readonly<Record<EventType, number>> = { invoke: 0, ok: 1, fail: 2, info: 3 };
const typeOfCode: readonly EventType[] = ['invoke', 'ok', 'fail', 'info'];
const fCode: Readonly<Record<OpFunction, number>> = { read: fRead, write: fWrite, cas: fCas };
const fOfCode: readonly OpFunction[] = ['read', 'write', 'cas'];
/** Integer process ids below this are looked up in an array, not a map. */
const smallProcessMax = 4096;

/**
 * The events of a history, one typed array per field, sized once from the line count. Processes
 * and keys are interned to small integers, so pairing is array indexing.
 */
class Columns {
  length = 0;
  readonly process: Int32Array;
  readonly type: Uint8Array;
  readonly f: Uint8Array;
  readonly key: Int32Array;
  /** read: the value read; write: the value; cas: the expected value (the new one is in value2). */
  readonly value: (Value | null)[];
  readonly value2: (Value | null)[];
  readonly time: Float64Array;
  readonly line: Int32Array;
  /** NaN when the event has no index. */
  readonly index: Float64Array;
  /** Only a few events carry an error. */
  readonly error = new Map<number, string>();
  readonly processes: ProcessId[] = [];
  readonly keys: string[] = [];
  private readonly smallProcess = new Int32Array(smallProcessMax).fill(-1);
  private readonly processSlot = new Map<ProcessId, number>();
  private readonly keySlot = new Map<string, number>();

  constructor(capacity: number) {
    this.process = new Int32Array(capacity);
    this.type = new Uint8Array(capacity);
    this.f = new Uint8Array(capacity);
    this.key = new Int32Array(capacity);
    this.value = new Array<Value | null>(capacity).fill(null);
    this.value2 = new Array<Value | null>(capacity).fill(null);
    this.time = new Float64Array(capacity);
    this.line = new Int32Array(capacity);
    this.index = new Float64Array(capacity);
  }

  private processOf(p: ProcessId): number {
    const small = typeof p === 'number' && p >= 0 && p < smallProcessMax && Number.isInteger(p) && !Object.is(p, -0);
    let slot = small ? this.smallProcess[p]! : this.processSlot.get(p) ?? -1;
    if (slot < 0) {
      slot = this.processes.length;
      this.processes.push(p);
      if (small) this.smallProcess[p] = slot;
      else this.processSlot.set(p, slot);
    }
    return slot;
  }

  keyOf(k: string): number {
    let slot = this.keySlot.get(k);
    if (slot === undefined) {
      slot = this.keys.length;
      this.keys.push(k);
      this.keySlot.set(k, slot);
    }
    return slot;
  }

  /** `key` is a slot from keyOf. */
  pushSlot(process: ProcessId, type: number, f: number, key: number, value: Value | null, value2: Value | null,
    time: number, line: number, index: number, error: string | undefined): void {
    const i = this.length++;
    this.process[i] = this.processOf(process);
    this.type[i] = type;
    this.f[i] = f;
    this.key[i] = key;
    this.value[i] = value;
    this.value2[i] = value2;
    this.time[i] = time;
    this.line[i] = line;
    this.index[i] = index;
    if (error !== undefined) this.error.set(i, error);
  }

  pushEvent(e: HistoryEvent): void {
    const pair = Array.isArray(e.value) ? (e.value as readonly [Value | null, Value]) : undefined;
    this.pushSlot(e.process, typeCode[e.type], fCode[e.f], this.keyOf(e.key), pair ? pair[0] : (e.value as Value | null),
      pair ? pair[1] : null, e.time, e.line, e.index ?? NaN, e.error);
  }

  eventAt(i: number): HistoryEvent {
    const f = this.f[i]!;
    const type = this.type[i]!;
    const event: { -readonly [K in keyof HistoryEvent]: HistoryEvent[K] } = {
      process: this.processes[this.process[i]!]!, type: typeOfCode[type]!, f: fOfCode[f]!, key: this.keys[this.key[i]!]!,
      value: f === fCas && type === 0 ? [this.value[i]!, this.value2[i]!] : this.value[i]!,
      time: this.time[i]!, line: this.line[i]!,
    };
    const index = this.index[i]!;
    if (!Number.isNaN(index)) event.index = index;
    const error = this.error.get(i);
    if (error !== undefined) event.error = error;
    return event;
  }

  toEvents(): HistoryEvent[] {
    const events: HistoryEvent[] = new Array(this.length);
    for (let i = 0; i < this.length; i++) events[i] = this.eventAt(i);
    return events;
  }
}

/** A history as read: its table made while reading, its events and operations built when first asked for. */
class ReadHistory implements History {
  readonly [tableOf]: OpTable;
  private readonly cols: Columns;
  /** Per row: the event position of its completion, -1 when it never completed. */
  private readonly completion: Int32Array;
  private eventList: HistoryEvent[] | undefined;
  private operationList: Operation[] | undefined;

  constructor(cols: Columns, events?: HistoryEvent[]) {
    this.cols = cols;
    const { table, completion } = pairColumns(cols);
    this[tableOf] = table;
    this.completion = completion;
    this.eventList = events;
  }

  get events(): readonly HistoryEvent[] {
    return (this.eventList ??= this.cols.toEvents());
  }

  get operations(): readonly Operation[] {
    if (this.operationList === undefined) {
      const t = this[tableOf];
      const list: Operation[] = new Array(t.length);
      for (let r = 0; r < t.length; r++) list[r] = this.operationAt(r);
      this.operationList = list;
    }
    return this.operationList;
  }

  private operationAt(r: number): Operation {
    const c = this.cols;
    const t = this[tableOf];
    const call = t.call[r]!;
    const at = this.completion[r]!;
    const f = t.f[r]!;
    const status = statusNames[t.status[r]!]!;
    const done = at >= 0;
    const op: { -readonly [K in keyof Operation]: Operation[K] } = {
      id: r,
      process: c.processes[c.process[call]!]!,
      key: t.keys[t.key[r]!]!,
      f: fOfCode[f]!,
      input: f === fRead ? null : f === fWrite ? t.a[r]! : [t.a[r]!, t.b[r]!],
      output: f === fRead ? t.a[r]! : null,
      status,
      call,
      ret: t.ret[r]!,
      callTime: c.time[call]!,
      retTime: done ? c.time[at]! : null,
      callLine: c.line[call]!,
      retLine: done ? c.line[at]! : null,
    };
    const error = done ? c.error.get(at) : undefined;
    if (error !== undefined) op.error = error;
    return op;
  }
}

const statusNames: readonly OpStatus[] = ['ok', 'info', 'mismatch', 'fail'];

// The fast path: the exact line shapes the harness's recorder and the generator write
// (`{"process":..,"type":..,"f":..,"key":..,"value":..[,"error":..],"time":..[,"index":..][,"error":..]}`,
// no whitespace, no escapes in strings, plain integers). It accepts only lines that JSON.parse and
// validateEvent would accept and turn into the same event; on anything else it gives up and the line
// goes through JSON.parse and validateEvent, so every error (code, line, reason) comes from there.
// It reads bytes, not a decoded string: keys are interned from their bytes (no string per line), and
// the cursor and results live in the parser's fields so that a line allocates nothing.
const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const litOpen = ascii('{"process":');
const litType = ascii(',"type":');
const litF = ascii(',"f":');
const litKey = ascii(',"key":');
const litValue = ascii(',"value":');
const litError = ascii(',"error":');
const litTime = ascii(',"time":');
const litIndex = ascii(',"index":');
const litNull = ascii('null');
const litInvoke = ascii('"invoke"');
const litOk = ascii('"ok"');
const litFail = ascii('"fail"');
const litInfo = ascii('"info"');
const litRead = ascii('"read"');
const litWrite = ascii('"write"');
const litCas = ascii('"cas"');

class LineParser {
  private readonly src: Buffer;
  private at = 0;
  private lim = 0;
  private num = 0.5; // a double from the start: the field never changes representation
  /** The last string scanned: its bytes are src[strStart, strEnd); its FNV-1a hash. */
  private strStart = 0;
  private strEnd = 0;
  private strHash = 0;
  private val: Value | null = null;
  private val2: Value | null = null;
  private pair = false;
  private readonly cols: Columns;
  /** Keys seen so far: hash → key slot, and where each key's bytes first were (for the exact compare). */
  private readonly keyByHash = new Map<number, number>();
  private readonly keyNext: number[] = [];
  private readonly keyStart: number[] = [];
  private readonly keyEnd: number[] = [];
  private readonly keySlot: number[] = [];

  constructor(bytes: Buffer, cols: Columns) {
    this.src = bytes;
    this.cols = cols;
  }

  private byte(i: number): number {
    return i < this.lim ? this.src[i]! : -1;
  }

  private lit(l: Uint8Array): boolean {
    const { src, at } = this;
    if (at + l.length > this.lim) return false;
    for (let i = 0; i < l.length; i++) if (src[at + i] !== l[i]) return false;
    this.at = at + l.length;
    return true;
  }

  /** A string without escapes or control characters (its JSON text is its value), into strStart/strEnd/strHash. */
  private scanString(): boolean {
    const { src, lim } = this;
    if (this.byte(this.at) !== 0x22) return false;
    const s = this.at + 1;
    let i = s;
    let h = 0x811c9dc5;
    for (;;) {
      if (i >= lim) return false;
      const c = src[i]!;
      if (c === 0x22) break;
      if (c === 0x5c || c < 0x20) return false;
      h = Math.imul(h ^ c, 0x01000193);
      i++;
    }
    this.strStart = s;
    this.strEnd = i;
    this.strHash = h;
    this.at = i + 1;
    return true;
  }

  private scannedString(): string {
    return this.src.toString('utf8', this.strStart, this.strEnd);
  }

  /** The key slot (Columns) of the string just scanned, interned by its bytes. */
  private scannedKey(): number {
    const { src, strStart: s, strEnd: e } = this;
    const first = this.keyByHash.get(this.strHash);
    for (let k = first ?? -1; k >= 0; k = this.keyNext[k]!) {
      const ks = this.keyStart[k]!;
      if (this.keyEnd[k]! - ks !== e - s) continue;
      let i = 0;
      while (i < e - s && src[ks + i] === src[s + i]) i++;
      if (i === e - s) return this.keySlot[k]!;
    }
    const k = this.keyStart.length;
    this.keyNext.push(first ?? -1);
    this.keyByHash.set(this.strHash, k);
    this.keyStart.push(s);
    this.keyEnd.push(e);
    // The columns intern by the decoded string: a key may also come as a number or on a slow-path
    // line, and two byte sequences may decode to the same string.
    this.keySlot.push(this.cols.keyOf(this.scannedString()));
    return this.keySlot[k]!;
  }

  /** A JSON number; plain integers of up to 15 digits are computed here, others by Number(). */
  private scanNumber(intOnly: boolean): boolean {
    const { src, lim } = this;
    const s = this.at;
    let i = this.at;
    if (this.byte(i) === 0x2d) i++;
    const digits = i;
    let c = this.byte(i);
    let v = 0;
    if (c === 0x30) i++;
    else if (c >= 0x31 && c <= 0x39) {
      while (i < lim && (c = src[i]!) >= 0x30 && c <= 0x39) {
        v = v * 10 + (c - 0x30);
        i++;
      }
    } else return false;
    const intEnd = i;
    c = this.byte(i);
    if (c === 0x2e || c === 0x65 || c === 0x45) {
      if (intOnly) return false;
      if (c === 0x2e) {
        i++;
        const f = i;
        while (i < lim && (c = src[i]!) >= 0x30 && c <= 0x39) i++;
        if (i === f) return false;
      }
      c = this.byte(i);
      if (c === 0x65 || c === 0x45) {
        i++;
        c = this.byte(i);
        if (c === 0x2b || c === 0x2d) i++;
        const e = i;
        while (i < lim && (c = src[i]!) >= 0x30 && c <= 0x39) i++;
        if (i === e) return false;
      }
      this.num = Number(src.toString('latin1', s, i));
      if (!Number.isFinite(this.num)) return false;
    } else {
      if (intEnd - digits > 15) return false;
      this.num = s === digits ? v : -v;
    }
    this.at = i;
    return true;
  }

  /** null, a string, or a safe integer, into `this.val`. */
  private scanScalar(): boolean {
    const c = this.byte(this.at);
    if (c === 0x6e) {
      if (!this.lit(litNull)) return false;
      this.val = null;
      return true;
    }
    if (c === 0x22) {
      if (!this.scanString()) return false;
      this.val = this.scannedString();
      return true;
    }
    if (!this.scanNumber(true)) return false;
    this.val = this.num;
    return true;
  }

  /** A scalar into `val`, or a cas pair into `val` and `val2` (then `pair` is true). */
  private scanValue(): boolean {
    this.pair = false;
    if (this.byte(this.at) !== 0x5b) return this.scanScalar();
    this.at++;
    if (!this.scanScalar()) return false;
    const a = this.val;
    if (this.byte(this.at) !== 0x2c) return false;
    this.at++;
    if (!this.scanScalar()) return false;
    const b = this.val;
    if (this.byte(this.at) !== 0x5d || b === null) return false;
    this.at++;
    this.val = a;
    this.val2 = b;
    this.pair = true;
    return true;
  }

  /** The event type's code (typeCode), or -1. One literal compared, chosen by its distinguishing byte. */
  private scanType(): number {
    const c = this.byte(this.at + 1);
    if (c === 0x69) return this.byte(this.at + 3) === 0x76 ? (this.lit(litInvoke) ? 0 : -1) : this.lit(litInfo) ? 3 : -1;
    if (c === 0x6f) return this.lit(litOk) ? 1 : -1;
    if (c === 0x66) return this.lit(litFail) ? 2 : -1;
    return -1;
  }

  /** The function's code (fRead, fWrite, fCas), or -1. */
  private scanF(): number {
    const c = this.byte(this.at + 1);
    if (c === 0x72) return this.lit(litRead) ? fRead : -1;
    if (c === 0x77) return this.lit(litWrite) ? fWrite : -1;
    if (c === 0x63) return this.lit(litCas) ? fCas : -1;
    return -1;
  }

  /** Appends the line's event to the columns; false (and nothing appended) when it is not in the fast shape. */
  event(start: number, end: number, line: number): boolean {
    this.at = start;
    this.lim = end;
    if (!this.lit(litOpen)) return false;
    let process: ProcessId;
    if (this.byte(this.at) === 0x22) {
      if (!this.scanString()) return false;
      process = this.scannedString();
    } else {
      if (!this.scanNumber(true)) return false;
      process = this.num;
    }
    if (!this.lit(litType)) return false;
    const type = this.scanType();
    if (type < 0 || !this.lit(litF)) return false;
    const f = this.scanF();
    if (f < 0 || !this.lit(litKey)) return false;
    let key: number;
    if (this.byte(this.at) === 0x22) {
      if (!this.scanString()) return false;
      key = this.scannedKey();
    } else {
      if (!this.scanNumber(true)) return false;
      key = this.cols.keyOf(String(this.num));
    }
    if (!this.lit(litValue) || !this.scanValue()) return false;
    const raw = this.val;
    const pair = this.pair;
    let error: string | undefined;
    if (this.lit(litError)) {
      if (!this.scanString()) return false;
      error = this.scannedString();
    }
    if (!this.lit(litTime) || !this.scanNumber(false)) return false;
    const time = this.num;
    let index = NaN;
    if (this.lit(litIndex)) {
      if (!this.scanNumber(true)) return false;
      index = this.num;
    }
    if (error === undefined && this.lit(litError)) {
      if (!this.scanString()) return false;
      error = this.scannedString();
    }
    if (this.byte(this.at) !== 0x7d || this.at + 1 !== this.lim) return false;
    // validateValue's rules, without its errors.
    let value: Value | null = null;
    let value2: Value | null = null;
    if (f === fRead) {
      if (pair || (type === 0 && raw !== null)) return false;
      value = raw;
    } else if (type === 0) {
      if (f === fWrite) {
        if (raw === null || pair) return false;
        value = raw;
      } else {
        if (!pair) return false;
        value = raw;
        value2 = this.val2;
      }
    }
    this.cols.pushSlot(process, type, f, key, value, value2, time, line, index, error);
    return true;
  }
}

/** Validates already-parsed events (e.g. from a harness in the same process) and pairs them. */
export function historyFromEvents(objects: readonly unknown[]): History {
  const events = objects.map((o, i) => validateEvent(o, i + 1));
  const cols = new Columns(events.length);
  for (const e of events) cols.pushEvent(e);
  return new ReadHistory(cols, events);
}

function parseEvent(raw: string, line: number): HistoryEvent {
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch (err) {
    throw new HistoryError('HISTORY_BAD_JSON', line, `bad JSON: ${(err as Error).message}`);
  }
  return validateEvent(obj, line);
}

function isValue(v: unknown): v is Value {
  return typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v));
}

function validateEvent(obj: unknown, line: number): HistoryEvent {
  const bad = (reason: string): never => {
    throw new HistoryError('HISTORY_BAD_FIELD', line, reason);
  };
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) bad('an event must be a JSON object');
  const o = obj as Record<string, unknown>;
  const type = o['type'];
  if (typeof type !== 'string' || !eventTypes.has(type)) {
    throw new HistoryError('HISTORY_UNKNOWN_TYPE', line, `unknown type ${JSON.stringify(type)} (expected invoke, ok, fail or info)`);
  }
  const f = o['f'];
  if (typeof f !== 'string' || !functions.has(f)) {
    throw new HistoryError('HISTORY_UNKNOWN_F', line, `unknown f ${JSON.stringify(f)} (expected read, write or cas)`);
  }
  const process = o['process'];
  if (!(typeof process === 'string' || (typeof process === 'number' && Number.isSafeInteger(process)))) {
    bad(`process must be an integer or a string, got ${JSON.stringify(process)}`);
  }
  const key = o['key'];
  if (!(typeof key === 'string' || (typeof key === 'number' && Number.isSafeInteger(key)))) {
    bad(`key must be a string or an integer, got ${JSON.stringify(key)}`);
  }
  const time = o['time'];
  if (typeof time !== 'number' || !Number.isFinite(time)) bad(`time must be a number, got ${JSON.stringify(time)}`);
  const index = o['index'];
  if (index !== undefined && !(typeof index === 'number' && Number.isSafeInteger(index))) {
    bad(`index must be an integer, got ${JSON.stringify(index)}`);
  }
  const error = o['error'];
  if (error !== undefined && typeof error !== 'string') bad(`error must be a string, got ${JSON.stringify(error)}`);
  const value = validateValue(f as OpFunction, type as EventType, o['value'], bad);
  const event: {
    -readonly [K in keyof HistoryEvent]: HistoryEvent[K];
  } = {
    process: process as ProcessId,
    type: type as EventType,
    f: f as OpFunction,
    key: String(key),
    value,
    time: time as number,
    line,
  };
  if (index !== undefined) event.index = index as number;
  if (error !== undefined) event.error = error as string;
  return event;
}

function validateValue(
  f: OpFunction,
  type: EventType,
  value: unknown,
  bad: (reason: string) => never,
): HistoryEvent['value'] {
  if (f === 'read') {
    if (value === undefined || value === null) return null;
    if (type === 'invoke') bad('a read invocation must have value null');
    if (!isValue(value)) bad(`a read's value must be a string, an integer or null, got ${JSON.stringify(value)}`);
    return value as Value;
  }
  // A write's or cas's completion may echo the value or not (Jepsen sends null on info); the
  // invocation's value is the one that counts.
  if (type !== 'invoke') return null;
  if (f === 'write') {
    if (!isValue(value)) bad(`a write's value must be a string or an integer, got ${JSON.stringify(value)}`);
    return value as Value;
  }
  if (!Array.isArray(value) || value.length !== 2) bad(`a cas's value must be [expected, new], got ${JSON.stringify(value)}`);
  const [expected, next] = value as unknown[];
  if (!(expected === null || isValue(expected))) bad(`a cas's expected value must be a string, an integer or null, got ${JSON.stringify(expected)}`);
  if (!isValue(next)) bad(`a cas's new value must be a string or an integer, got ${JSON.stringify(next)}`);
  return [expected as Value | null, next as Value];
}

/**
 * Pairs each invocation with the completion on the same process, into an OpTable whose rows are in
 * invocation order (row = Operation.id). Rejects completions without an invocation, a second
 * invocation on a busy process, and completions for another f or key.
 */
function pairColumns(c: Columns): { table: MutableOpTable; completion: Int32Array } {
  const n = c.length;
  // Per process slot: the event position of its invocation in flight, or -1.
  const inflight = new Int32Array(c.processes.length).fill(-1);
  // Per invocation position: its completion's position, or -1.
  const completionAt = new Int32Array(n).fill(-1);
  const { process: procs, type: types, f: fs, key: keys, line: lines } = c;
  const fName = (i: number): string => fOfCode[fs[i]!]!;
  const pName = (i: number): string => JSON.stringify(c.processes[procs[i]!]);
  let invocations = 0;
  for (let position = 0; position < n; position++) {
    const p = procs[position]!;
    const busyAt = inflight[p]!;
    const t = types[position]!;
    if (t === 0) {
      if (busyAt >= 0) {
        throw new HistoryError('HISTORY_PROCESS_BUSY', lines[position]!,
          `process ${pName(position)} invokes ${fName(position)} while its ${fName(busyAt)} from line ${lines[busyAt]!} is still in flight`);
      }
      inflight[p] = position;
      invocations++;
      continue;
    }
    if (busyAt < 0) {
      throw new HistoryError('HISTORY_ORPHAN_COMPLETION', lines[position]!,
        `${typeOfCode[t]!} ${fName(position)} on process ${pName(position)} has no invocation in flight`);
    }
    if (fs[busyAt] !== fs[position] || keys[busyAt] !== keys[position]) {
      const keyName = (i: number): string => JSON.stringify(c.keys[keys[i]!]);
      throw new HistoryError('HISTORY_COMPLETION_MISMATCH', lines[position]!,
        `completion ${fName(position)} on key ${keyName(position)} does not match the invocation ${fName(busyAt)} on key ${keyName(busyAt)} at line ${lines[busyAt]!}`);
    }
    inflight[p] = -1;
    completionAt[busyAt] = position;
  }
  const table = emptyTable(invocations);
  table.keys.push(...c.keys);
  const completion = new Int32Array(invocations);
  let r = 0;
  for (let call = 0; call < n; call++) {
    if (types[call] !== 0) continue;
    const at = completionAt[call]!;
    const f = fs[call]!;
    const status = statusOf(c, at);
    table.id[r] = r;
    table.key[r] = keys[call]!;
    table.f[r] = f;
    table.status[r] = status;
    table.call[r] = call;
    table.ret[r] = status === rowInfo ? Infinity : at;
    if (f === fRead) table.a[r] = status === rowOk ? c.value[at]! : null;
    else {
      table.a[r] = c.value[call]!;
      if (f === fCas) table.b[r] = c.value2[call]!;
    }
    completion[r] = at;
    r++;
  }
  return { table, completion };
}

/** `at` is the completion's event position, -1 when the operation never completed. */
function statusOf(c: Columns, at: number): number {
  if (at < 0) return rowInfo;
  const t = c.type[at]!;
  if (t === 3) return rowInfo;
  if (t === 1) return rowOk;
  return c.f[at] === fCas && c.error.get(at) === 'cas-mismatch' ? rowMismatch : rowFail;
}

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
  return parseHistory(decode(bytes, path));
}

function decode(bytes: Buffer, path: string): string {
  const gzip = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (!gzip) return bytes.toString('utf8');
  try {
    return gunzipSync(bytes).toString('utf8');
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
  // Events go into columns, not objects: `events` is built only if someone asks for it (the CLI
  // and the checker need only the operations).
  const cols = new Columns();
  const parser = new LineParser(text, cols);
  let start = 0;
  let lineNo = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    if (!(text.charCodeAt(start) === 0x7b && parser.event(start, end, lineNo))) {
      const raw = text.slice(start, end);
      if (raw.trim() !== '') cols.pushEvent(parseEvent(raw, lineNo));
    }
    start = end + 1;
  }
  const operations = pairColumns(cols);
  let events: HistoryEvent[] | undefined;
  return {
    get events(): readonly HistoryEvent[] {
      return (events ??= cols.toEvents());
    },
    operations,
  };
}

const typeCode: Readonly<Record<EventType, number>> = { invoke: 0, ok: 1, fail: 2, info: 3 };
const typeOfCode: readonly EventType[] = ['invoke', 'ok', 'fail', 'info'];

/** The events of a history, one array per field. */
class Columns {
  readonly process: ProcessId[] = [];
  readonly type: number[] = [];
  readonly f: OpFunction[] = [];
  readonly key: string[] = [];
  readonly value: HistoryEvent['value'][] = [];
  readonly time: number[] = [];
  readonly line: number[] = [];
  readonly index: (number | undefined)[] = [];
  readonly error: (string | undefined)[] = [];

  push(process: ProcessId, type: EventType, f: OpFunction, key: string, value: HistoryEvent['value'],
    time: number, line: number, index: number | undefined, error: string | undefined): void {
    this.process.push(process);
    this.type.push(typeCode[type]);
    this.f.push(f);
    this.key.push(key);
    this.value.push(value);
    this.time.push(time);
    this.line.push(line);
    this.index.push(index);
    this.error.push(error);
  }

  pushEvent(e: HistoryEvent): void {
    this.push(e.process, e.type, e.f, e.key, e.value, e.time, e.line, e.index, e.error);
  }

  get length(): number {
    return this.type.length;
  }

  eventAt(i: number): HistoryEvent {
    const event: { -readonly [K in keyof HistoryEvent]: HistoryEvent[K] } = {
      process: this.process[i]!, type: typeOfCode[this.type[i]!]!, f: this.f[i]!, key: this.key[i]!,
      value: this.value[i]!, time: this.time[i]!, line: this.line[i]!,
    };
    const index = this.index[i];
    if (index !== undefined) event.index = index;
    const error = this.error[i];
    if (error !== undefined) event.error = error;
    return event;
  }

  toEvents(): HistoryEvent[] {
    const events: HistoryEvent[] = new Array(this.length);
    for (let i = 0; i < this.length; i++) events[i] = this.eventAt(i);
    return events;
  }
}

// The fast path: the exact line shapes the harness's recorder and the generator write
// (`{"process":..,"type":..,"f":..,"key":..,"value":..[,"error":..],"time":..[,"index":..][,"error":..]}`,
// no whitespace, no escapes in strings, plain integers). It accepts only lines that JSON.parse and
// validateEvent would accept and turn into the same event; on anything else it gives up and the line
// goes through JSON.parse and validateEvent, so every error (code, line, reason) comes from there.
// The cursor and results live in the parser's fields so that a line allocates nothing but its event.
class LineParser {
  private src: string;
  private at = 0;
  private lim = 0;
  private num = 0.5; // a double from the start: the field never changes representation
  private str = '';
  private val: Value | null | readonly [Value | null, Value] = null;
  private cols: Columns;

  constructor(text: string, cols: Columns) {
    this.src = text;
    this.cols = cols;
  }

  private lit(s: string): boolean {
    // No literal contains a newline, so a match never runs past the line.
    if (!this.src.startsWith(s, this.at)) return false;
    this.at += s.length;
    return true;
  }

  /** A string without escapes or control characters (its JSON text is its value). */
  private scanString(): boolean {
    if (this.src.charCodeAt(this.at) !== 0x22) return false;
    const s = this.at + 1;
    let i = s;
    for (;;) {
      if (i >= this.lim) return false;
      const c = this.src.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c || c < 0x20) return false;
      i++;
    }
    this.str = this.src.slice(s, i);
    this.at = i + 1;
    return true;
  }

  /** A JSON number; plain integers of up to 15 digits are computed here, others by Number(). */
  private scanNumber(intOnly: boolean): boolean {
    const s = this.at;
    let i = this.at;
    if (this.src.charCodeAt(i) === 0x2d) i++;
    const digits = i;
    let c = this.src.charCodeAt(i);
    let v = 0;
    if (c === 0x30) i++;
    else if (c >= 0x31 && c <= 0x39) {
      while (i < this.lim && (c = this.src.charCodeAt(i)) >= 0x30 && c <= 0x39) {
        v = v * 10 + (c - 0x30);
        i++;
      }
    } else return false;
    const intEnd = i;
    c = this.src.charCodeAt(i);
    if (c === 0x2e || c === 0x65 || c === 0x45) {
      if (intOnly) return false;
      if (c === 0x2e) {
        i++;
        const f = i;
        while (i < this.lim && (c = this.src.charCodeAt(i)) >= 0x30 && c <= 0x39) i++;
        if (i === f) return false;
      }
      c = this.src.charCodeAt(i);
      if (c === 0x65 || c === 0x45) {
        i++;
        c = this.src.charCodeAt(i);
        if (c === 0x2b || c === 0x2d) i++;
        const e = i;
        while (i < this.lim && (c = this.src.charCodeAt(i)) >= 0x30 && c <= 0x39) i++;
        if (i === e) return false;
      }
      this.num = Number(this.src.slice(s, i));
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
    const c = this.src.charCodeAt(this.at);
    if (c === 0x6e) {
      if (!this.lit('null')) return false;
      this.val = null;
      return true;
    }
    if (c === 0x22) {
      if (!this.scanString()) return false;
      this.val = this.str;
      return true;
    }
    if (!this.scanNumber(true)) return false;
    this.val = this.num;
    return true;
  }

  private scanValue(): boolean {
    if (this.src.charCodeAt(this.at) !== 0x5b) return this.scanScalar();
    this.at++;
    if (!this.scanScalar()) return false;
    const a = this.val as Value | null;
    if (!this.lit(',') || !this.scanScalar()) return false;
    const b = this.val as Value | null;
    if (!this.lit(']') || b === null) return false;
    this.val = [a, b];
    return true;
  }

  private canonicalType(s: string): EventType | undefined {
    return s === 'invoke' ? 'invoke' : s === 'ok' ? 'ok' : s === 'fail' ? 'fail' : s === 'info' ? 'info' : undefined;
  }

  private canonicalF(s: string): OpFunction | undefined {
    return s === 'read' ? 'read' : s === 'write' ? 'write' : s === 'cas' ? 'cas' : undefined;
  }

  /** Appends the line's event to the columns; false (and nothing appended) when it is not in the fast shape. */
  event(start: number, end: number, line: number): boolean {
    this.at = start;
    this.lim = end;
    if (!this.lit('{"process":')) return false;
    let process: ProcessId;
    if (this.src.charCodeAt(this.at) === 0x22) {
      if (!this.scanString()) return false;
      process = this.str;
    } else {
      if (!this.scanNumber(true)) return false;
      process = this.num;
    }
    if (!this.lit(',"type":') || !this.scanString()) return false;
    const type = this.canonicalType(this.str);
    if (type === undefined) return false;
    if (!this.lit(',"f":') || !this.scanString()) return false;
    const f = this.canonicalF(this.str);
    if (f === undefined) return false;
    if (!this.lit(',"key":')) return false;
    let key: string;
    if (this.src.charCodeAt(this.at) === 0x22) {
      if (!this.scanString()) return false;
      key = this.str;
    } else {
      if (!this.scanNumber(true)) return false;
      key = String(this.num);
    }
    if (!this.lit(',"value":') || !this.scanValue()) return false;
    const raw = this.val;
    let error: string | undefined;
    if (this.lit(',"error":')) {
      if (!this.scanString()) return false;
      error = this.str;
    }
    if (!this.lit(',"time":') || !this.scanNumber(false)) return false;
    const time = this.num;
    let index: number | undefined;
    if (this.lit(',"index":')) {
      if (!this.scanNumber(true)) return false;
      index = this.num;
    }
    if (error === undefined && this.lit(',"error":')) {
      if (!this.scanString()) return false;
      error = this.str;
    }
    if (!this.lit('}') || this.at !== this.lim) return false;
    // validateValue's rules, without its errors.
    let value: HistoryEvent['value'];
    if (f === 'read') {
      if (Array.isArray(raw) || (type === 'invoke' && raw !== null)) return false;
      value = raw;
    } else if (type !== 'invoke') value = null;
    else if (f === 'write') {
      if (raw === null || Array.isArray(raw)) return false;
      value = raw;
    } else {
      if (!Array.isArray(raw)) return false;
      value = raw;
    }
    this.cols.push(process, type, f, key, value, time, line, index, error);
    return true;
  }
}

/** Validates already-parsed events (e.g. from a harness in the same process) and pairs them. */
export function historyFromEvents(objects: readonly unknown[]): History {
  const events = objects.map((o, i) => validateEvent(o, i + 1));
  const cols = new Columns();
  for (const e of events) cols.pushEvent(e);
  return { events, operations: pairColumns(cols) };
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
 * Pairs each invocation with the completion on the same process. Rejects completions without an
 * invocation, a second invocation on a busy process, and completions for another f or key.
 */
function pairColumns(c: Columns): Operation[] {
  // Per process: the event position of its invocation in flight. Ids are positions in invocation
  // order, kept per event position in a typed array (no object per pending operation).
  const n = c.length;
  const inflight = new Map<ProcessId, number>();
  const idAt = new Int32Array(n);
  const { process: procs, type: types, f: fs, key: keys, line: lines } = c;
  for (let position = 0; position < n; position++) {
    const p = procs[position]!;
    const busyAt = inflight.get(p);
    const t = types[position]!;
    if (t === 0) {
      if (busyAt !== undefined) {
        throw new HistoryError('HISTORY_PROCESS_BUSY', lines[position]!,
          `process ${JSON.stringify(p)} invokes ${fs[position]!} while its ${fs[busyAt]!} from line ${lines[busyAt]!} is still in flight`);
      }
      inflight.set(p, position);
      continue;
    }
    if (busyAt === undefined) {
      throw new HistoryError('HISTORY_ORPHAN_COMPLETION', lines[position]!,
        `${typeOfCode[t]!} ${fs[position]!} on process ${JSON.stringify(p)} has no invocation in flight`);
    }
    if (fs[busyAt] !== fs[position] || keys[busyAt] !== keys[position]) {
      throw new HistoryError('HISTORY_COMPLETION_MISMATCH', lines[position]!,
        `completion ${fs[position]!} on key ${JSON.stringify(keys[position]!)} does not match the invocation ${fs[busyAt]!} on key ${JSON.stringify(keys[busyAt]!)} at line ${lines[busyAt]!}`);
    }
    inflight.delete(p);
    idAt[busyAt] = -1 - position; // completed: the completion's position, encoded below zero
  }
  const operations: Operation[] = [];
  for (let position = 0; position < n; position++) {
    if (types[position] !== 0) continue;
    const open = inflight.get(procs[position]!) === position;
    operations.push(makeOperation(operations.length, c, position, open ? -1 : -1 - idAt[position]!));
  }
  return operations;
}

function statusOf(c: Columns, at: number): OpStatus {
  if (at < 0) return 'info';
  const t = c.type[at]!;
  if (t === 3) return 'info';
  if (t === 1) return 'ok';
  return c.f[at] === 'cas' && c.error[at] === 'cas-mismatch' ? 'mismatch' : 'fail';
}

/** `at` is the completion's event position, -1 when the operation never completed. */
function makeOperation(id: number, c: Columns, call: number, at: number): Operation {
  const status = statusOf(c, at);
  const f = c.f[call]!;
  const done = at >= 0;
  const op: { -readonly [K in keyof Operation]: Operation[K] } = {
    id,
    process: c.process[call]!,
    key: c.key[call]!,
    f,
    input: c.value[call]!,
    output: status === 'ok' && f === 'read' ? (c.value[at]! as Value | null) : null,
    status,
    call,
    ret: status === 'info' ? Infinity : at,
    callTime: c.time[call]!,
    retTime: done ? c.time[at]! : null,
    callLine: c.line[call]!,
    retLine: done ? c.line[at]! : null,
  };
  const error = done ? c.error[at] : undefined;
  if (error !== undefined) op.error = error;
  return op;
}

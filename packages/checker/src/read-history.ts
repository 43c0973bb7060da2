import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { HistoryError } from './history-error.js';
import type { EventType, EventValue, History, OpFunction, Operation, ProcessId, ReadEvent, Value } from './history.js';
import { Columns, fOfCode, typeOfCode } from './event-columns.js';
import { fCas, fRead, fWrite } from './kv-model.js';
import { LineParser } from './line-parser.js';
import { emptyTable, rowFail, rowInfo, rowMismatch, rowOk, statusOfRow, tableOf, type MutableOpTable, type OpTable } from './op-table.js';

const eventTypes: ReadonlySet<string> = new Set(['invoke', 'ok', 'fail', 'info']);
const functions: ReadonlySet<string> = new Set(['read', 'write', 'cas', 'delete']);

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

/** A history as read: its table made while reading, its events and operations built when first asked for. */
class ReadHistory implements History {
  readonly [tableOf]: OpTable;
  private readonly cols: Columns;
  /** Per row: the event position of its completion, -1 when it never completed. */
  private readonly completion: Int32Array;
  private eventList: ReadEvent[] | undefined;
  private operationList: Operation[] | undefined;

  constructor(cols: Columns, events?: ReadEvent[]) {
    this.cols = cols;
    const { table, completion } = pairColumns(cols);
    this[tableOf] = table;
    this.completion = completion;
    this.eventList = events;
  }

  get events(): readonly ReadEvent[] {
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
    const status = statusOfRow[t.status[r]!]!;
    const done = at >= 0;
    const op: { -readonly [K in keyof Operation]: Operation[K] } = {
      id: r,
      process: c.processes[c.process[call]!]!,
      key: t.keys[t.key[r]!]!,
      f: fOfCode[f]!,
      input: f === fWrite ? t.a[r]! : f === fCas ? [t.a[r]!, t.b[r]!] : null,
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

/** Validates already-parsed events (e.g. from a harness in the same process) and pairs them. */
export function historyFromEvents(objects: readonly unknown[]): History {
  const events = objects.map((o, i) => validateEvent(o, i + 1));
  const cols = new Columns(events.length);
  for (const e of events) cols.pushEvent(e);
  return new ReadHistory(cols, events);
}

function parseEvent(raw: string, line: number): ReadEvent {
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

function validateEvent(obj: unknown, line: number): ReadEvent {
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
    throw new HistoryError('HISTORY_UNKNOWN_F', line, `unknown f ${JSON.stringify(f)} (expected read, write, cas or delete)`);
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
    -readonly [K in keyof ReadEvent]: ReadEvent[K];
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

function validateValue(f: OpFunction, type: EventType, value: unknown, bad: (reason: string) => never): EventValue {
  if (f === 'read') {
    if (value === undefined || value === null) return null;
    if (type === 'invoke') bad('a read invocation must have value null');
    if (!isValue(value)) bad(`a read's value must be a string, an integer or null, got ${JSON.stringify(value)}`);
    return value as Value;
  }
  // A write's, cas's or delete's completion may echo the value or not (Jepsen sends null on info);
  // the invocation's value is the one that counts.
  if (type !== 'invoke') return null;
  if (f === 'delete') {
    if (!(value === undefined || value === null)) bad(`a delete invocation must have value null, got ${JSON.stringify(value)}`);
    return null;
  }
  if (f === 'write') {
    if (!isValue(value)) bad(`a write's value must be a string or an integer, got ${JSON.stringify(value)}`);
    return value as Value;
  }
  if (!Array.isArray(value) || value.length !== 2) bad(`a cas's value must be [expected, new], got ${JSON.stringify(value)}`);
  const [expected, next] = value as unknown[];
  if (!(expected === null || isValue(expected)))
    bad(`a cas's expected value must be a string, an integer or null, got ${JSON.stringify(expected)}`);
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
        throw new HistoryError(
          'HISTORY_PROCESS_BUSY',
          lines[position]!,
          `process ${pName(position)} invokes ${fName(position)} while its ${fName(busyAt)} from line ${lines[busyAt]!} is still in flight`,
        );
      }
      inflight[p] = position;
      invocations++;
      continue;
    }
    if (busyAt < 0) {
      throw new HistoryError(
        'HISTORY_ORPHAN_COMPLETION',
        lines[position]!,
        `${typeOfCode[t]!} ${fName(position)} on process ${pName(position)} has no invocation in flight`,
      );
    }
    if (fs[busyAt] !== fs[position] || keys[busyAt] !== keys[position]) {
      const keyName = (i: number): string => JSON.stringify(c.keys[keys[i]!]);
      throw new HistoryError(
        'HISTORY_COMPLETION_MISMATCH',
        lines[position]!,
        `completion ${fName(position)} on key ${keyName(position)} does not match the invocation ${fName(busyAt)} on key ${keyName(busyAt)} at line ${lines[busyAt]!}`,
      );
    }
    inflight[p] = -1;
    completionAt[busyAt] = position;
  }
  const table = emptyTable(invocations);
  for (const key of c.keys) table.keys.push(key); // not push(...keys): a spread of 100,000+ overflows the stack
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

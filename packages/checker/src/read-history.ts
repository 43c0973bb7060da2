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
  const events: HistoryEvent[] = [];
  let start = 0;
  let lineNo = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    const raw = text.slice(start, end);
    start = end + 1;
    if (raw.trim() === '') continue;
    events.push(parseEvent(raw, lineNo));
  }
  return { events, operations: pairOperations(events) };
}

/** Validates already-parsed events (e.g. from a harness in the same process) and pairs them. */
export function historyFromEvents(objects: readonly unknown[]): History {
  const events = objects.map((o, i) => validateEvent(o, i + 1));
  return { events, operations: pairOperations(events) };
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

interface Pending {
  readonly invoke: HistoryEvent;
  readonly position: number;
  readonly id: number;
}

/**
 * Pairs each invocation with the completion on the same process. Rejects completions without an
 * invocation, a second invocation on a busy process, and completions for another f or key.
 */
function pairOperations(events: readonly HistoryEvent[]): Operation[] {
  const inflight = new Map<ProcessId, Pending>();
  const operations: Operation[] = [];
  const slots: (Operation | undefined)[] = [];
  let nextId = 0;
  for (let position = 0; position < events.length; position++) {
    const e = events[position]!;
    const busy = inflight.get(e.process);
    if (e.type === 'invoke') {
      if (busy) {
        throw new HistoryError('HISTORY_PROCESS_BUSY', e.line,
          `process ${JSON.stringify(e.process)} invokes ${e.f} while its ${busy.invoke.f} from line ${busy.invoke.line} is still in flight`);
      }
      inflight.set(e.process, { invoke: e, position, id: nextId++ });
      slots.push(undefined);
      continue;
    }
    if (!busy) {
      throw new HistoryError('HISTORY_ORPHAN_COMPLETION', e.line,
        `${e.type} ${e.f} on process ${JSON.stringify(e.process)} has no invocation in flight`);
    }
    if (busy.invoke.f !== e.f || busy.invoke.key !== e.key) {
      throw new HistoryError('HISTORY_COMPLETION_MISMATCH', e.line,
        `completion ${e.f} on key ${JSON.stringify(e.key)} does not match the invocation ${busy.invoke.f} on key ${JSON.stringify(busy.invoke.key)} at line ${busy.invoke.line}`);
    }
    inflight.delete(e.process);
    slots[busy.id] = makeOperation(busy, e, position);
  }
  for (const p of inflight.values()) slots[p.id] = makeOperation(p, undefined, Infinity);
  for (const op of slots) operations.push(op!);
  return operations;
}

function statusOf(completion: HistoryEvent | undefined): OpStatus {
  if (!completion || completion.type === 'info') return 'info';
  if (completion.type === 'ok') return 'ok';
  return completion.f === 'cas' && completion.error === 'cas-mismatch' ? 'mismatch' : 'fail';
}

function makeOperation(p: Pending, completion: HistoryEvent | undefined, position: number): Operation {
  const status = statusOf(completion);
  const indeterminate = status === 'info';
  const op: { -readonly [K in keyof Operation]: Operation[K] } = {
    id: p.id,
    process: p.invoke.process,
    key: p.invoke.key,
    f: p.invoke.f,
    input: p.invoke.value,
    output: status === 'ok' && p.invoke.f === 'read' ? (completion!.value as Value | null) : null,
    status,
    call: p.position,
    ret: indeterminate ? Infinity : position,
    callTime: p.invoke.time,
    retTime: completion ? completion.time : null,
    callLine: p.invoke.line,
    retLine: completion ? completion.line : null,
  };
  if (completion?.error !== undefined) op.error = completion.error;
  return op;
}

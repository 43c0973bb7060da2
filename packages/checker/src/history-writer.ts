import type { EventType, EventValue, HistoryEvent, OpFunction, ProcessId, Value } from './history.js';

/**
 * The writing side of docs/history-format.md, shared by every producer of histories (the simulator
 * and the harness), so that what they write and what the reader accepts are one definition.
 */

/** One line of the format for `event`: JSON with the fields in the order of the format's table, no newline. */
export function eventLine(event: HistoryEvent): string {
  const { process, type, f, key, value, time, index, error } = event;
  const line: Record<string, unknown> = { process, type, f, key, value, time };
  if (index !== undefined) line['index'] = index;
  if (error !== undefined) line['error'] = error;
  return JSON.stringify(line);
}

/** The events as JSON Lines (each line ends with a newline). */
export function eventsJsonl(events: Iterable<HistoryEvent>): string {
  let out = '';
  for (const e of events) out += `${eventLine(e)}\n`;
  return out;
}

interface InFlight {
  readonly f: OpFunction;
  readonly key: string;
  readonly value: EventValue;
}

function isValue(v: unknown): v is Value {
  return typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v));
}

/** A call that breaks the format's rules: a bug in the producer, never bad input. */
export class HistoryUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HistoryUsageError';
  }
}

function demand(condition: boolean, message: string): asserts condition {
  if (!condition) throw new HistoryUsageError(message);
}

/**
 * Makes the events of a history as its operations happen, and holds the producer to the format:
 * an invocation's value fits its `f`; a process has at most one operation in flight (rule 1); a
 * completion carries its invocation's `f`, `key` and value (an ok read, the value read); `index`
 * counts the events from 0. It does no I/O and reads no clock: each call gets the event's time and
 * returns the event, which the caller stores or writes (eventLine). Breaking a rule throws
 * HistoryUsageError and records nothing.
 */
export class HistoryWriter {
  private nextIndex = 0;
  private readonly inFlight = new Map<ProcessId, InFlight>();

  /** Events made so far. */
  get events(): number {
    return this.nextIndex;
  }

  /** Whether `process` has an operation in flight. */
  busy(process: ProcessId): boolean {
    return this.inFlight.has(process);
  }

  /** Processes with an operation in flight, in the order they invoked it. */
  openProcesses(): ProcessId[] {
    return [...this.inFlight.keys()];
  }

  invoke(time: number, process: ProcessId, f: 'read' | 'delete', key: string): HistoryEvent;
  invoke(time: number, process: ProcessId, f: 'write', key: string, value: Value): HistoryEvent;
  invoke(time: number, process: ProcessId, f: 'cas', key: string, value: readonly [Value | null, Value]): HistoryEvent;
  invoke(time: number, process: ProcessId, f: OpFunction, key: string, value?: EventValue): HistoryEvent;
  invoke(time: number, process: ProcessId, f: OpFunction, key: string, value: EventValue = null): HistoryEvent {
    demand(!this.inFlight.has(process), `process ${JSON.stringify(process)} already has an operation in flight`);
    demand(typeof key === 'string', 'key must be a string');
    if (f === 'read' || f === 'delete') demand(value === null, `a ${f} is invoked with value null`);
    else if (f === 'write') demand(isValue(value), `write value must be a string or safe integer, got ${JSON.stringify(value)}`);
    else if (f === 'cas') {
      demand(Array.isArray(value) && value.length === 2, 'cas value must be [expected, new]');
      const [expected, next] = value as readonly [unknown, unknown];
      demand(expected === null || isValue(expected), 'cas expected must be null, a string or a safe integer');
      demand(isValue(next), 'cas new value must be a string or a safe integer');
    } else demand(false, `unknown f ${JSON.stringify(f)}`);
    const op: InFlight = { f, key, value: f === 'cas' ? [...(value as readonly [Value | null, Value])] : value };
    this.inFlight.set(process, op);
    return this.event(time, process, 'invoke', op, op.value);
  }

  /** It happened. A read gives the value read (null = absent); the others complete with their invocation's value. */
  ok(time: number, process: ProcessId, readValue?: Value | null): HistoryEvent {
    const f = this.inFlight.get(process)?.f;
    if (f === 'read') {
      demand(readValue === null || isValue(readValue), `an ok read needs the value read (null = absent), got ${JSON.stringify(readValue)}`);
    } else if (f !== undefined) {
      demand(readValue === undefined, 'only a read completes with a value');
    }
    const op = this.take(process);
    return this.event(time, process, 'ok', op, op.f === 'read' ? (readValue as Value | null) : op.value);
  }

  /** It certainly changed nothing. `error: 'cas-mismatch'` on a cas tells the checker the cas was evaluated. */
  fail(time: number, process: ProcessId, error?: string): HistoryEvent {
    const op = this.take(process);
    return this.event(time, process, 'fail', op, op.value, error);
  }

  /** Unknown outcome (rule 2, never reusing the process afterwards, is the caller's to keep). */
  info(time: number, process: ProcessId, error?: string): HistoryEvent {
    const op = this.take(process);
    return this.event(time, process, 'info', op, op.value, error);
  }

  private take(process: ProcessId): InFlight {
    const op = this.inFlight.get(process);
    demand(op !== undefined, `process ${JSON.stringify(process)} has no operation in flight`);
    this.inFlight.delete(process);
    return op;
  }

  private event(time: number, process: ProcessId, type: EventType, op: InFlight, value: EventValue, error?: string): HistoryEvent {
    const event: HistoryEvent = { process, type, f: op.f, key: op.key, value, time, index: this.nextIndex++ };
    return error === undefined ? event : { ...event, error };
  }
}

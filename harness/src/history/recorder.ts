import assert from 'node:assert/strict';
import { JsonlWriter } from './jsonl-writer.js';
import { RunClock } from './run-clock.js';

/** A stored value: a string or an integer, compared exactly. */
export type Value = string | number;
export type OpFunction = 'read' | 'write' | 'cas';
export type EventType = 'invoke' | 'ok' | 'fail' | 'info';
/** read: null on invoke; write: the value; cas: [expected (null = absent), new]. */
export type OpValue = Value | null | readonly [Value | null, Value];

/** One line of history.jsonl (docs/history-format.md), fields in this order. */
export interface HistoryEvent {
  readonly process: number;
  readonly type: EventType;
  readonly f: OpFunction;
  readonly key: string;
  readonly value: OpValue;
  readonly time: number;
  readonly index: number;
  readonly error?: string;
}

export interface RecorderOptions {
  readonly clock?: RunClock;
  /** Bytes waiting for the disk before awaiting callers are held back. */
  readonly bufferedBytesMax?: number;
}

export interface RecorderSummary {
  readonly events: number;
  /** Process numbers issued. */
  readonly processes: number;
  /** Operations completed as `info` by close() because they never completed. */
  readonly unfinished: number;
}

interface InFlight {
  readonly f: OpFunction;
  readonly key: string;
  readonly value: OpValue;
}

const bufferedBytesMaxDefault = 1024 * 1024;

function isValue(v: unknown): v is Value {
  return typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v));
}

/**
 * Records a history exactly as docs/history-format.md specifies, and enforces its rules on the caller:
 * a process has at most one operation in flight; completions carry the invocation's f and key;
 * after `info` the process is retired and a new process number takes its place; at close every
 * operation still in flight is completed as `info`. Breaking a rule is a programmer error (throws).
 *
 * Each call records its event synchronously, at the time of the call (so the file's order is the
 * real order), and returns a promise that callers should await: it holds them back while the
 * disk is behind by more than `bufferedBytesMax`.
 */
export class HistoryRecorder {
  readonly clock: RunClock;
  private readonly writer: JsonlWriter;
  private nextIndex = 0;
  private nextProcess = 0;
  private readonly inFlight = new Map<number, InFlight>();
  private readonly retired = new Set<number>();
  private readonly live = new Set<number>();
  private closing: Promise<RecorderSummary> | null = null;

  constructor(path: string, options: RecorderOptions = {}) {
    this.clock = options.clock ?? new RunClock();
    this.writer = new JsonlWriter(path, options.bufferedBytesMax ?? bufferedBytesMaxDefault);
  }

  get path(): string {
    return this.writer.path;
  }

  /** Issues a fresh process number (0, 1, 2, ...). */
  newProcess(): number {
    this.assertOpen();
    const p = this.nextProcess++;
    this.live.add(p);
    return p;
  }

  /** Whether `process` has an operation in flight. */
  busy(process: number): boolean {
    return this.inFlight.has(process);
  }

  invoke(process: number, f: 'read', key: string): Promise<void>;
  invoke(process: number, f: 'write', key: string, value: Value): Promise<void>;
  invoke(process: number, f: 'cas', key: string, value: readonly [Value | null, Value]): Promise<void>;
  invoke(process: number, f: OpFunction, key: string, value: OpValue = null): Promise<void> {
    this.assertOpen();
    assert.ok(this.live.has(process), this.retired.has(process) ? `process ${process} was retired after info` : `process ${process} was never issued`);
    assert.ok(!this.inFlight.has(process), `process ${process} already has an operation in flight`);
    assert.equal(typeof key, 'string', 'key must be a string');
    if (f === 'read') assert.equal(value, null, 'a read is invoked with value null');
    else if (f === 'write') assert.ok(isValue(value), `write value must be a string or safe integer, got ${JSON.stringify(value)}`);
    else {
      assert.ok(Array.isArray(value) && value.length === 2, 'cas value must be [expected, new]');
      const [expected, next] = value as readonly [unknown, unknown];
      assert.ok(expected === null || isValue(expected), `cas expected must be null, a string or a safe integer`);
      assert.ok(isValue(next), 'cas new value must be a string or a safe integer');
    }
    const op: InFlight = { f, key, value: f === 'cas' ? [...(value as readonly [Value | null, Value])] : value };
    this.inFlight.set(process, op);
    return this.emit(process, 'invoke', op, op.value);
  }

  /**
   * It happened. For a read, `readValue` is the value read (null = absent); writes and cas
   * complete with their invocation's value.
   */
  ok(process: number, readValue?: Value | null): Promise<void> {
    // Validate before taking the operation, so a rejected call leaves it in flight.
    const f = this.inFlight.get(process)?.f;
    if (f === 'read') {
      assert.ok(readValue === null || isValue(readValue), `an ok read needs the value read (null = absent), got ${JSON.stringify(readValue)}`);
    } else if (f !== undefined) {
      assert.equal(readValue, undefined, `only a read completes with a value`);
    }
    const op = this.take(process);
    return this.emit(process, 'ok', op, op.f === 'read' ? (readValue as Value | null) : op.value);
  }

  /** It certainly changed nothing. `error: 'cas-mismatch'` tells the checker the cas was evaluated. */
  fail(process: number, error?: string): Promise<void> {
    const op = this.take(process);
    return this.emit(process, 'fail', op, op.value, error);
  }

  /**
   * Unknown outcome. The process is retired; the promise gives the fresh process number that takes
   * its place (a client keeps going under it). The number is issued at the call, like the event.
   */
  info(process: number, error?: string): Promise<number> {
    const op = this.take(process);
    const written = this.emit(process, 'info', op, op.value, error);
    this.live.delete(process);
    this.retired.add(process);
    const next = this.newProcess();
    return written.then(() => next);
  }

  /** Completes every open operation as `info`, flushes and closes the file. Idempotent. */
  close(): Promise<RecorderSummary> {
    if (this.closing !== null) return this.closing;
    const open = [...this.inFlight.keys()].sort((a, b) => a - b);
    for (const p of open) {
      const op = this.take(p);
      void this.emit(p, 'info', op, op.value).catch(() => {});
      this.live.delete(p);
      this.retired.add(p);
    }
    this.closing = this.writer.close().then(() => ({
      events: this.nextIndex,
      processes: this.nextProcess,
      unfinished: open.length,
    }));
    return this.closing;
  }

  private take(process: number): InFlight {
    this.assertOpen();
    const op = this.inFlight.get(process);
    assert.ok(op !== undefined, `process ${process} has no operation in flight`);
    this.inFlight.delete(process);
    return op;
  }

  private emit(process: number, type: EventType, op: InFlight, value: OpValue, error?: string): Promise<void> {
    const event: HistoryEvent = {
      process,
      type,
      f: op.f,
      key: op.key,
      value,
      time: this.clock.now(),
      index: this.nextIndex++,
      ...(error === undefined ? {} : { error }),
    };
    return this.writer.write(JSON.stringify(event));
  }

  private assertOpen(): void {
    assert.ok(this.closing === null, 'the history is closed');
  }
}

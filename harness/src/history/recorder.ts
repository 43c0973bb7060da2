import assert from 'node:assert/strict';
import { eventLine, HistoryWriter, type EventValue, type HistoryEvent, type OpFunction, type Value } from '@kvapp/checker';
import { JsonlWriter } from './jsonl-writer.js';
import { RunClock } from './run-clock.js';

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

const bufferedBytesMaxDefault = 1024 * 1024;

/**
 * Records a history exactly as docs/history-format.md specifies, to a file. The events, and the
 * format's rules on each call (values that fit `f`, one operation in flight per process,
 * completions that carry the invocation's f and key), are @kvapp/checker's HistoryWriter; on top
 * of it this enforces what the harness promises besides: process numbers are issued here, after
 * `info` the process is retired and a new number takes its place, and at close every operation
 * still in flight is completed as `info`. Breaking a rule is a programmer error (throws).
 *
 * Each call records its event synchronously, at the time of the call (so the file's order is the
 * real order), and returns a promise that callers should await: it holds them back while the
 * disk is behind by more than `bufferedBytesMax`.
 */
export class HistoryRecorder {
  readonly clock: RunClock;
  private readonly writer: JsonlWriter;
  private readonly history = new HistoryWriter();
  private nextProcess = 0;
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
    return this.history.busy(process);
  }

  invoke(process: number, f: 'read' | 'delete', key: string): Promise<void>;
  invoke(process: number, f: 'write', key: string, value: Value): Promise<void>;
  invoke(process: number, f: 'cas', key: string, value: readonly [Value | null, Value]): Promise<void>;
  invoke(process: number, f: OpFunction, key: string, value: EventValue = null): Promise<void> {
    this.assertOpen();
    assert.ok(
      this.live.has(process),
      this.retired.has(process) ? `process ${process} was retired after info` : `process ${process} was never issued`,
    );
    return this.write(this.history.invoke(this.clock.now(), process, f, key, value));
  }

  /**
   * It happened. For a read, `readValue` is the value read (null = absent); writes, cas and
   * deletes complete with their invocation's value.
   */
  ok(process: number, readValue?: Value | null): Promise<void> {
    this.assertOpen();
    return this.write(this.history.ok(this.clock.now(), process, readValue));
  }

  /** It certainly changed nothing. `error: 'cas-mismatch'` tells the checker the cas was evaluated. */
  fail(process: number, error?: string): Promise<void> {
    this.assertOpen();
    return this.write(this.history.fail(this.clock.now(), process, error));
  }

  /**
   * Unknown outcome. The process is retired; the promise gives the fresh process number that takes
   * its place (a client keeps going under it). The number is issued at the call, like the event.
   */
  info(process: number, error?: string): Promise<number> {
    this.assertOpen();
    const written = this.write(this.history.info(this.clock.now(), process, error));
    this.live.delete(process);
    this.retired.add(process);
    const next = this.newProcess();
    return written.then(() => next);
  }

  /** Completes every open operation as `info`, flushes and closes the file. Idempotent. */
  close(): Promise<RecorderSummary> {
    if (this.closing !== null) return this.closing;
    const open = (this.history.openProcesses() as number[]).sort((a, b) => a - b);
    for (const p of open) {
      void this.write(this.history.info(this.clock.now(), p)).catch(() => {});
      this.live.delete(p);
      this.retired.add(p);
    }
    this.closing = this.writer.close().then(() => ({
      events: this.history.events,
      processes: this.nextProcess,
      unfinished: open.length,
    }));
    return this.closing;
  }

  private write(event: HistoryEvent): Promise<void> {
    return this.writer.write(eventLine(event));
  }

  private assertOpen(): void {
    assert.ok(this.closing === null, 'the history is closed');
  }
}

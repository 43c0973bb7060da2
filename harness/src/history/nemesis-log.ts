import assert from 'node:assert/strict';
import { JsonlWriter } from './jsonl-writer.js';
import { RunClock } from './run-clock.js';

/** One line of nemesis.jsonl. `time` is on the same clock as the history's. */
export interface NemesisEvent {
  readonly time: number;
  readonly nemesis: string;
  readonly phase: 'start' | 'end';
  readonly detail: unknown;
}

export interface NemesisLogOptions {
  /** Pass the history recorder's clock so both files share one time base. */
  readonly clock?: RunClock;
  readonly bufferedBytesMax?: number;
}

/**
 * Writes nemesis.jsonl: every fault period as a `start` and an `end` event. A nemesis (by name)
 * has at most one period open at a time; a mix of faults uses distinct names. At close, a period
 * still open is ended with detail {"unterminated": true}, so a report never sees a start alone.
 */
export class NemesisLog {
  readonly clock: RunClock;
  private readonly writer: JsonlWriter;
  private readonly open = new Set<string>();
  private closing: Promise<void> | null = null;

  constructor(path: string, options: NemesisLogOptions = {}) {
    this.clock = options.clock ?? new RunClock();
    this.writer = new JsonlWriter(path, options.bufferedBytesMax ?? 256 * 1024);
  }

  get active(): string[] {
    return [...this.open];
  }

  start(nemesis: string, detail: unknown = null): Promise<void> {
    assert.ok(this.closing === null, 'the nemesis log is closed');
    assert.ok(!this.open.has(nemesis), `nemesis ${nemesis} already started`);
    this.open.add(nemesis);
    return this.emit(nemesis, 'start', detail);
  }

  end(nemesis: string, detail: unknown = null): Promise<void> {
    assert.ok(this.closing === null, 'the nemesis log is closed');
    assert.ok(this.open.has(nemesis), `nemesis ${nemesis} was not started`);
    this.open.delete(nemesis);
    return this.emit(nemesis, 'end', detail);
  }

  /** Runs `fault` between a start and an end event; the end is recorded even if it throws. */
  async during<T>(nemesis: string, detail: unknown, fault: () => Promise<T>): Promise<T> {
    await this.start(nemesis, detail);
    try {
      return await fault();
    } finally {
      await this.end(nemesis, detail);
    }
  }

  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    for (const nemesis of [...this.open]) void this.emit(nemesis, 'end', { unterminated: true }).catch(() => {});
    this.open.clear();
    this.closing = this.writer.close();
    return this.closing;
  }

  private emit(nemesis: string, phase: 'start' | 'end', detail: unknown): Promise<void> {
    const event: NemesisEvent = { time: this.clock.now(), nemesis, phase, detail };
    return this.writer.write(JSON.stringify(event));
  }
}

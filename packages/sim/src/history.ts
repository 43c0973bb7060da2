/** One line of a history, as docs/history-format.md defines it. */
export interface HistoryEvent {
  readonly process: number;
  readonly type: 'invoke' | 'ok' | 'fail' | 'info';
  readonly f: 'read' | 'write' | 'cas';
  readonly key: string;
  readonly value: HistoryValue;
  /** Monotonic nanoseconds (simulated). */
  readonly time: number;
  readonly index: number;
  readonly error?: string;
}

export type HistoryValue = string | null | readonly [string | null, string];

/** Appends events in the order they happen; times are simulated and strictly increasing. */
export class HistoryRecorder {
  readonly events: HistoryEvent[] = [];
  private lastTime = -1;

  record(nowMs: number, event: Omit<HistoryEvent, 'time' | 'index'>): void {
    const time = Math.max(nowMs * 1_000_000, this.lastTime + 1);
    this.lastTime = time;
    this.events.push({ ...event, time, index: this.events.length });
  }

  /** JSON Lines, byte-identical for identical runs. */
  toJsonl(): string {
    return this.events.map((e) => JSON.stringify(e)).join('\n') + (this.events.length > 0 ? '\n' : '');
  }
}

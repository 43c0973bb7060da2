import { HistoryWriter, type HistoryEvent, type Value } from '@kvapp/checker';

/**
 * The simulation's history, in the format @kvapp/checker owns (docs/history-format.md): the
 * checker's HistoryWriter makes the events and pairs completions with invocations; this adds only
 * the simulated clock (nanoseconds, strictly increasing even when events share a millisecond).
 */
export class HistoryRecorder {
  readonly events: HistoryEvent[] = [];
  private readonly writer = new HistoryWriter();
  private lastTime = -1;

  invoke(nowMs: number, process: number, f: 'read' | 'delete', key: string): void;
  invoke(nowMs: number, process: number, f: 'write', key: string, value: Value): void;
  invoke(nowMs: number, process: number, f: 'cas', key: string, value: readonly [Value | null, Value]): void;
  invoke(
    nowMs: number,
    process: number,
    f: 'read' | 'delete' | 'write' | 'cas',
    key: string,
    value: Value | null | readonly [Value | null, Value] = null,
  ): void {
    this.events.push(this.writer.invoke(this.time(nowMs), process, f, key, value));
  }

  /** A read gives the value read (null = absent); the others complete with their invocation's value. */
  ok(nowMs: number, process: number, readValue?: Value | null): void {
    this.events.push(this.writer.ok(this.time(nowMs), process, readValue));
  }

  fail(nowMs: number, process: number, error?: string): void {
    this.events.push(this.writer.fail(this.time(nowMs), process, error));
  }

  info(nowMs: number, process: number, error?: string): void {
    this.events.push(this.writer.info(this.time(nowMs), process, error));
  }

  private time(nowMs: number): number {
    const time = Math.max(nowMs * 1_000_000, this.lastTime + 1);
    this.lastTime = time;
    return time;
  }
}

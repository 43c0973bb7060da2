/** Ping periods a late pong is excused while the bytes ahead of the ping keep moving. */
export const PING_PERIODS_EXCUSED_MAX = 30;

/**
 * Decides, once per ping period, whether a link is alive. A link is dead when a period passes
 * without the pong. One excuse: the ping went out behind bytes still waiting to be written (a
 * chunked snapshot) and the socket took some of them during the period, so the pong is behind
 * them. Small messages flowing to a peer that stopped reading are no excuse (they were not ahead
 * of the ping), and no excuse lasts more than PING_PERIODS_EXCUSED_MAX periods. No timers here:
 * the link calls it, and tests can drive it period by period.
 */
export class PingWatch {
  private answered = true;
  private behindBytes = false;
  private excused = 0;
  private flushedBefore: number;

  constructor(flushedBytes: number) {
    this.flushedBefore = flushedBytes;
  }

  pong(): void {
    this.answered = true;
    this.excused = 0;
  }

  /** Periods excused since the last pong (for the log). */
  get excusedPeriods(): number {
    return this.excused;
  }

  /**
   * A period ended. `unflushedBytes`: written but not yet taken by the socket; `flushedBytes`: taken
   * so far (only ever grows). 'ping': send a ping now; 'wait': the last one is still on its way;
   * 'dead': close the link.
   */
  period(unflushedBytes: number, flushedBytes: number): 'ping' | 'wait' | 'dead' {
    const progressed = flushedBytes !== this.flushedBefore;
    this.flushedBefore = flushedBytes;
    if (!this.answered) {
      if (!this.behindBytes || !progressed || this.excused >= PING_PERIODS_EXCUSED_MAX) return 'dead';
      this.excused++;
      return 'wait';
    }
    this.answered = false;
    this.behindBytes = unflushedBytes > 0;
    return 'ping';
  }
}

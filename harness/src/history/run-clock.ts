/**
 * The run's time base: monotonic nanoseconds since the run started (process.hrtime.bigint), as a
 * number. Shared by the history and the nemesis log so their times compare. A number holds
 * integers exactly up to 2^53 ns, about 104 days: far beyond any run.
 */
export class RunClock {
  private readonly startNs: bigint;

  constructor(private readonly source: () => bigint = process.hrtime.bigint) {
    this.startNs = source();
  }

  now(): number {
    return Number(this.source() - this.startNs);
  }
}

import type { Workload } from '../workload/workload.js';
import type { RunPhase, RunProgress } from './types.js';

/**
 * The run's progress events (RunOptions.onProgress): one on every phase change and one a second
 * meanwhile. Operations count the workload's and the final reads'.
 */
export class RunProgressReporter {
  private phase: RunPhase = 'setup';
  private nemesis: string | null = null;
  private workload: Workload | null = null;
  private finalOps = 0;
  private finalOk = 0;
  private readonly ticker: NodeJS.Timeout;

  constructor(
    private readonly startedMs: number,
    private readonly onProgress: ((p: RunProgress) => void) | undefined,
  ) {
    this.ticker = setInterval(() => this.report(), 1000);
    this.ticker.unref();
  }

  setPhase(phase: RunPhase): void {
    this.phase = phase;
    this.report();
  }

  /** The fault in force, or null; shown with the next event. */
  setNemesis(name: string | null): void {
    this.nemesis = name;
  }

  /** The workload whose counters the events show from now on. */
  watch(workload: Workload): void {
    this.workload = workload;
  }

  /** A final read invoked. */
  countFinalRead(): void {
    this.finalOps += 1;
  }

  /** A final read answered ok. */
  countFinalReadOk(): void {
    this.finalOk += 1;
  }

  /** No more ticks; phase changes still report. */
  stopTicking(): void {
    clearInterval(this.ticker);
  }

  private report(): void {
    const c = this.workload?.counters;
    this.onProgress?.({
      phase: this.phase,
      elapsedS: Math.round((Date.now() - this.startedMs) / 100) / 10,
      ops: (c?.ops ?? 0) + this.finalOps,
      ok: (c?.ok ?? 0) + this.finalOk,
      nemesis: this.nemesis,
    });
  }
}

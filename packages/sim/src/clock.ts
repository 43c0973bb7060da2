import type { NodeId } from '@kvapp/core';

/**
 * Virtual time. The simulation advances one millisecond per step; each node counts its own
 * ticks from it. A node's tick period may drift (a fast or slow clock) or stall (a paused
 * process: no ticks, and no message handling either — see SimNode.paused).
 */
export class VirtualClock {
  /** Simulated milliseconds since the start of the run. */
  nowMs = 0;
  private readonly periodMs = new Map<NodeId, number>();
  private readonly elapsedMs = new Map<NodeId, number>();
  /** Each node's own idea of the time in ms (advances with its ticks): what a leader stamps. */
  private readonly localMs = new Map<NodeId, number>();

  constructor(
    readonly ids: readonly NodeId[],
    readonly tickMs: number,
  ) {
    for (const id of ids) {
      this.periodMs.set(id, tickMs);
      this.elapsedMs.set(id, 0);
      this.localMs.set(id, 0);
    }
  }

  /** A node's ticks now come every `periodMs` (0: stalled). */
  setPeriod(id: NodeId, periodMs: number): void {
    this.periodMs.set(id, periodMs);
  }

  resetPeriod(id: NodeId): void {
    this.periodMs.set(id, this.tickMs);
  }

  period(id: NodeId): number {
    return this.periodMs.get(id)!;
  }

  /** Advances one millisecond; returns whether `id` ticks in it. Called once per node per step. */
  advance(id: NodeId): boolean {
    const period = this.periodMs.get(id)!;
    if (period === 0) return false;
    const elapsed = this.elapsedMs.get(id)! + 1;
    if (elapsed < period) {
      this.elapsedMs.set(id, elapsed);
      return false;
    }
    this.elapsedMs.set(id, 0);
    this.localMs.set(id, this.localMs.get(id)! + this.tickMs);
    return true;
  }

  local(id: NodeId): number {
    return this.localMs.get(id)!;
  }
}

import type { NemesisLine } from './run-files.js';

/** One fault period: from a nemesis' start to its end, in run-clock nanoseconds. */
export interface NemesisPeriod {
  readonly nemesis: string;
  readonly start: number;
  readonly end: number;
  /** True when no end was recorded: the period is drawn up to the end of the run. */
  readonly open: boolean;
  readonly detail: unknown;
}

/**
 * Pairs start and end lines by nemesis name (a name has at most one open period at a time, see
 * NemesisLog). An end without a start is ignored; a start without an end lasts until `endTime`.
 */
export function nemesisPeriods(lines: readonly NemesisLine[], endTime: number): NemesisPeriod[] {
  const open = new Map<string, NemesisLine>();
  const periods: NemesisPeriod[] = [];
  for (const line of lines) {
    if (line.phase === 'start') {
      const previous = open.get(line.nemesis);
      if (previous) periods.push(period(previous, line.time, true));
      open.set(line.nemesis, line);
    } else {
      const started = open.get(line.nemesis);
      if (!started) continue;
      open.delete(line.nemesis);
      periods.push(period(started, line.time, false));
    }
  }
  for (const started of open.values()) periods.push(period(started, Math.max(endTime, started.time), true));
  return periods.sort((a, b) => a.start - b.start);
}

function period(start: NemesisLine, end: number, open: boolean): NemesisPeriod {
  return { nemesis: start.nemesis, start: start.time, end, open, detail: start.detail };
}

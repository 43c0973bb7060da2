import { availabilityUnderFaults, type RunResult } from '@kvapp/harness';

/**
 * Share of operations the store answered (ok or a definite fail) while some fault was on, as the
 * engine counts it (harness/src/run/summary.ts); null when no fault period had ops.
 */
export function faultAvailability(r: RunResult): number | null {
  return availabilityUnderFaults(r.availability ?? []);
}

export function outcome(r: RunResult): 'pass' | 'FAIL' | 'ERROR' {
  if (r.passed && r.verdict === r.expect) return 'pass';
  return r.verdict === 'unknown' || r.error !== undefined ? 'ERROR' : 'FAIL';
}

/** The closing table: one row per run, columns padded to their widest cell. */
export function resultsTable(results: readonly RunResult[]): string {
  const head = ['scenario', 'seed', 'verdict', 'expected', 'result', 'ops', 'avail. in faults', 'duration'];
  const rows = results.map((r) => {
    const a = faultAvailability(r);
    return [
      r.scenario,
      String(r.seed),
      r.verdict,
      r.expect,
      outcome(r),
      String(r.ops?.total ?? 0),
      a === null ? '-' : `${(a * 100).toFixed(1)}%`,
      `${(r.durationMs / 1000).toFixed(1)} s`,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 || i === 2 || i === 3 || i === 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

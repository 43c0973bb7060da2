import type { RunResult } from '@kvapp/harness';

/** Share of operations that completed ok while some fault was on; null when no fault period had ops. */
export function faultAvailability(r: RunResult): number | null {
  let ops = 0;
  let ok = 0;
  for (const a of r.availability ?? []) {
    if (a.nemesis === 'none') continue;
    ops += a.ops;
    ok += a.ok;
  }
  return ops === 0 ? null : ok / ops;
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
    cells.map((c, i) => (i === 0 || i === 2 || i === 3 || i === 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

import { rssLine } from './rss-line.js';
import type { Totals } from './totals.js';

/** `kind n, kind n` in name order. */
function kindList(counts: Readonly<Record<string, number>>): string[] {
  return Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${kind} ${n}`);
}

function byKind(counts: Readonly<Record<string, number>>): string {
  const parts = kindList(counts);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

/** The totals as people read them: one line per figure, then each run's memory, then the anomalies. */
export function formatTotals(store: string, t: Totals): string {
  const r = t.runs;
  const kills = Object.entries(t.killRounds.byKind)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, k]) => `${kind} ${k.kills}${k.crashes > 0 ? ` + ${k.crashes} crashes at the failpoint` : ''}`);
  const lines = [
    `store ${store}: ${r.total} run(s), ${(r.durationS / 60).toFixed(1)} min in all`,
    `runs: valid ${r.byVerdict.valid}, invalid ${r.byVerdict.invalid}, unknown ${r.byVerdict.unknown}; expected valid ${r.byExpect.valid}, expected invalid ${r.byExpect.invalid}`,
    `kill -9 rounds: ${t.killRounds.total}${kills.length === 0 ? '' : ` (${kills.join(', ')})`}`,
    `power-cut rounds: ${t.powerCutRounds}`,
    `partition periods: ${t.partitionPeriods.total}${byKind(t.partitionPeriods.byKind)}`,
    `pause periods: ${t.pausePeriods}`,
    `other periods: ${kindList(t.otherPeriods).join(', ') || 'none'}`,
    ...(t.healErrors + t.unterminated > 0 ? [`periods with a failed heal: ${t.healErrors}; never ended: ${t.unterminated}`] : []),
    `operations: ${t.ops.total} (ok ${t.ops.ok}, fail ${t.ops.fail}, info ${t.ops.info})`,
    `acknowledged writes: ${t.ackedWrites.checked} verified, ${t.ackedWrites.lost} lost`,
    `anomalies: ${t.anomalies.runs.length === 0 ? 'none' : `${t.anomalies.runs.length} run(s)`} (unexpected verdicts ${t.anomalies.unexpectedVerdicts}, lost acknowledged writes ${t.anomalies.lostWrites}, errors ${t.anomalies.errors})`,
    ...t.anomalies.runs.map((a) => `  ${a.name}: ${a.why.join('; ')}`),
    ...t.perRun.filter((run) => run.notes.length > 0).map((run) => `note: ${run.name}: ${run.notes.join('; ')}`),
    `${rssLine(t.rssMb.byNode)} over ${t.rssMb.runsSampled} run(s)${t.rssMb.all === null ? '' : `; all nodes ${t.rssMb.all.min.toFixed(1)}–${t.rssMb.all.max.toFixed(1)}`}`,
    ...t.perRun
      .filter((run) => run.rssMb !== null)
      .map((run) => `  ${run.name} (${run.scenario}${run.seed === null ? '' : ` seed ${run.seed}`}): ${rssLine(run.rssMb!)}`),
  ];
  return `${lines.join('\n')}\n`;
}

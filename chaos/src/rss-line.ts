/** A node's resident memory over a run, as results.json `rssMb` holds it (MB). */
export interface RssRange {
  readonly min: number;
  readonly max: number;
}

/**
 * One line of each node's memory, min–max in MB by node id, e.g. `node RSS MB (min–max): 1
 * 48.2–71.0, 2 47.9–69.4`; the run's line in the chaos output and the totals use it.
 */
export function rssLine(rssMb: Readonly<Record<string, RssRange>>): string {
  const nodes = Object.entries(rssMb)
    .sort(([a], [b]) => Number(a) - Number(b) || a.localeCompare(b))
    .map(([id, r]) => `${id} ${r.min.toFixed(1)}–${r.max.toFixed(1)}`);
  return `node RSS MB (min–max): ${nodes.length === 0 ? 'not sampled' : nodes.join(', ')}`;
}

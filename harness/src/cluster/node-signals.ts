/**
 * What a kvapp-node tells the harness besides /health: the Prometheus text of /metrics and the
 * pino JSON lines of its log (packages/node-server: ops/metrics.ts, node/start-node.ts). Pure
 * parsers, so that a nemesis' judgement can be tested on canned text.
 */

/**
 * The sum of every sample of `name` whose labels include `labels` (Prometheus text format); 0 when
 * there is none (prom-client prints a labelled counter only once it has a value).
 */
export function metricSum(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    let sampleLabels: Record<string, string> = {};
    let valueText: string;
    if (rest.startsWith('{')) {
      const close = rest.indexOf('}');
      if (close < 0) continue;
      sampleLabels = parseLabels(rest.slice(1, close));
      valueText = rest.slice(close + 1);
    } else if (rest.startsWith(' ')) {
      valueText = rest;
    } else {
      continue; // another metric whose name starts with this one
    }
    if (!Object.entries(labels).every(([k, v]) => sampleLabels[k] === v)) continue;
    const value = Number(valueText.trim().split(/\s+/)[0]);
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!.replace(/\\(.)/g, '$1');
  return out;
}

/** The message of the node's log line for each snapshot it takes (start-node.ts, onCompacted). */
export const compactionMessage = 'snapshot taken, log compacted';

/** One snapshot a node took: its index, the state machine's bytes, and when (the node's clock, epoch ms). */
export interface Compaction {
  readonly index: number;
  readonly bytes: number;
  readonly timeMs: number;
}

/** Every compaction line of a node's log, in file order; lines that are not such JSON are skipped. */
export function parseCompactions(logText: string): Compaction[] {
  const out: Compaction[] = [];
  for (const line of logText.split('\n')) {
    if (!line.includes(compactionMessage)) continue;
    try {
      const o = JSON.parse(line) as { msg?: unknown; index?: unknown; bytes?: unknown; time?: unknown };
      if (o.msg !== compactionMessage || typeof o.index !== 'number' || typeof o.bytes !== 'number') continue;
      out.push({ index: o.index, bytes: o.bytes, timeMs: typeof o.time === 'number' ? o.time : 0 });
    } catch {
      // a torn last line, or not JSON
    }
  }
  return out;
}

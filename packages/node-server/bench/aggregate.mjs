// From raw measurements to the figures the bench reports: latency percentiles of one window,
// medians over runs, kvapp against etcd's best client, and the printed tables. Pure functions,
// so that the shape of the output is tested without starting any cluster.

/** Latency percentiles (ms) of one window's samples; nulls when the window completed nothing. */
export function percentiles(latenciesMs) {
  if (latenciesMs.length === 0) return { p50Ms: null, p99Ms: null, p999Ms: null };
  const sorted = Float64Array.from(latenciesMs).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50Ms: at(0.5), p99Ms: at(0.99), p999Ms: at(0.999) };
}

/** Median of the finite values (mean of the middle two for an even count); null when there are none. */
export function median(values) {
  const finite = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (finite.length === 0) return null;
  const mid = Math.floor(finite.length / 2);
  return finite.length % 2 === 1 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
}

function maxOf(values) {
  const finite = values.filter((x) => typeof x === 'number' && Number.isFinite(x));
  return finite.length === 0 ? null : Math.max(...finite);
}

/**
 * One result per (system, workload, concurrency): the median over runs of throughput, of each
 * percentile and of server CPU per operation. Peak RSS is the largest seen in any run (a peak,
 * not a typical value). Every sample is one window of one run:
 * { system, workload, concurrency, run, opsPerSec, p50Ms, p99Ms, p999Ms, errors,
 *   serverCpuUsPerOp, peakRssMbPerNode: number[], clientCpuCores: number[] (one per load process) }.
 */
export function summarize(samples) {
  const groups = new Map();
  for (const s of samples) {
    const key = `${s.system}\u0000${s.workload}\u0000${s.concurrency}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(s);
  }
  const results = [];
  for (const rows of groups.values()) {
    const { system, workload, concurrency } = rows[0];
    const nodes = Math.max(...rows.map((r) => r.peakRssMbPerNode.length));
    const peakRssMbPerNode = Array.from({ length: nodes }, (_, i) => maxOf(rows.map((r) => r.peakRssMbPerNode[i])));
    results.push({
      system,
      workload,
      concurrency,
      opsPerSec: median(rows.map((r) => r.opsPerSec)),
      p50Ms: median(rows.map((r) => r.p50Ms)),
      p99Ms: median(rows.map((r) => r.p99Ms)),
      p999Ms: median(rows.map((r) => r.p999Ms)),
      serverCpuUsPerOp: median(rows.map((r) => r.serverCpuUsPerOp)),
      peakRssMb: maxOf(peakRssMbPerNode),
      peakRssMbPerNode,
      runs: rows.length,
      opsPerSecRuns: rows.map((r) => r.opsPerSec),
      errors: rows.reduce((sum, r) => sum + r.errors, 0),
      clientCpuCoresMax: maxOf(rows.flatMap((r) => r.clientCpuCores)),
    });
  }
  return results;
}

/** Medians over runs of each floor's p50 (and throughput), from samples { name, p50Ms, opsPerSec }. */
export function summarizeFloors(floorSamples) {
  const names = [...new Set(floorSamples.map((f) => f.name))];
  return Object.fromEntries(
    names.map((name) => {
      const rows = floorSamples.filter((f) => f.name === name);
      return [
        name,
        {
          p50Ms: median(rows.map((r) => r.p50Ms)),
          p99Ms: median(rows.map((r) => r.p99Ms)),
          opsPerSec: median(rows.map((r) => r.opsPerSec)),
          runs: rows.length,
        },
      ];
    }),
  );
}

/** etcd's systems are named etcd-<client>; kvapp is compared against whichever did more. */
export const ETCD_PREFIX = 'etcd-';

/**
 * kvapp against etcd's best client for each workload and concurrency that both ran: throughput
 * ratio (kvapp / etcd), and p99, CPU per operation and peak RSS side by side.
 */
export function compare(results) {
  const rows = [];
  for (const kv of results.filter((r) => r.system === 'kvapp')) {
    const etcds = results.filter((r) => r.system.startsWith(ETCD_PREFIX) && r.workload === kv.workload && r.concurrency === kv.concurrency);
    if (etcds.length === 0) continue;
    const best = etcds.reduce((a, b) => ((b.opsPerSec ?? -1) > (a.opsPerSec ?? -1) ? b : a));
    rows.push({
      workload: kv.workload,
      concurrency: kv.concurrency,
      kvapp: kv,
      etcd: best,
      etcdClient: best.system.slice(ETCD_PREFIX.length),
      etcdByClient: Object.fromEntries(etcds.map((e) => [e.system.slice(ETCD_PREFIX.length), e.opsPerSec])),
      throughputRatio: ratio(kv.opsPerSec, best.opsPerSec),
    });
  }
  return rows;
}

/**
 * kvapp against `baseline` (another build of kvapp, --baseline) for each workload and
 * concurrency both ran: ratios kvapp / baseline of throughput, p50, p99 and server CPU per
 * operation (below 1 is better for all but throughput).
 */
export function compareBaseline(results, baseline) {
  const rows = [];
  for (const kv of results.filter((r) => r.system === 'kvapp')) {
    const base = results.find((r) => r.system === baseline && r.workload === kv.workload && r.concurrency === kv.concurrency);
    if (base === undefined) continue;
    rows.push({
      workload: kv.workload,
      concurrency: kv.concurrency,
      kvapp: kv,
      baseline: base,
      throughputRatio: ratio(kv.opsPerSec, base.opsPerSec),
      p50Ratio: ratio(kv.p50Ms, base.p50Ms),
      p99Ratio: ratio(kv.p99Ms, base.p99Ms),
      cpuRatio: ratio(kv.serverCpuUsPerOp, base.serverCpuUsPerOp),
    });
  }
  return rows;
}

export function ratio(a, b) {
  return a === null || b === null || b === 0 ? null : a / b;
}

/** A number for a table: '-' for null, thousands separated, `digits` decimals. */
export function fmt(x, digits = 0) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Decimals that keep two or three significant figures for latencies from 0.05 to 500 ms. */
function ms(x) {
  return fmt(x, x !== null && x < 1 ? 2 : x !== null && x < 10 ? 1 : 0);
}

export function resultsTable(results) {
  const lines = [
    '| system | workload | in flight | ops/s (runs) | p50 ms | p99 ms | p99.9 ms | server CPU µs/op | peak RSS MB per node | client CPU (max proc) | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.system} | ${r.workload} | ${r.concurrency} | ${fmt(r.opsPerSec)} (${r.opsPerSecRuns.map((x) => fmt(x)).join(', ')}) | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${ms(r.p999Ms)} | ${fmt(r.serverCpuUsPerOp)} | ${r.peakRssMbPerNode.map((x) => fmt(x)).join(' / ')} | ${fmt(r.clientCpuCoresMax, 2)} | ${r.errors} |`,
    );
  }
  return lines.join('\n');
}

export function comparisonTable(rows) {
  const lines = [
    '| workload | in flight | kvapp ops/s | etcd ops/s (best client) | kvapp/etcd | etcd by client | p99 ms kvapp / etcd | server CPU µs/op kvapp / etcd | peak RSS MB kvapp / etcd |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const byClient = Object.entries(r.etcdByClient)
      .map(([client, ops]) => `${client} ${fmt(ops)}`)
      .join(', ');
    lines.push(
      `| ${r.workload} | ${r.concurrency} | ${fmt(r.kvapp.opsPerSec)} | ${fmt(r.etcd.opsPerSec)} (${r.etcdClient}) | **${fmt(r.throughputRatio, 2)}×** | ${byClient} | ${ms(r.kvapp.p99Ms)} / ${ms(r.etcd.p99Ms)} | ${fmt(r.kvapp.serverCpuUsPerOp)} / ${fmt(r.etcd.serverCpuUsPerOp)} | ${fmt(r.kvapp.peakRssMb)} / ${fmt(r.etcd.peakRssMb)} |`,
    );
  }
  return lines.join('\n');
}

/**
 * The floor of one replication round, as the latency aims read it: a WebSocket round trip plus
 * a leader's and a follower's fdatasync at once (medians of the p50s over runs), and how far
 * each system's put at 1 in flight is above it (p50 / floor). Null when a floor is missing.
 */
export function replicationRound(floors, results) {
  const rtt = floors.wsRtt?.p50Ms;
  const pair = floors.fdatasyncPair?.p50Ms;
  if (typeof rtt !== 'number' || typeof pair !== 'number') return null;
  const floorMs = rtt + pair;
  const putAtOne = results
    .filter((r) => r.workload === 'put' && r.concurrency === 1 && typeof r.p50Ms === 'number')
    .map((r) => ({ system: r.system, p50Ms: r.p50Ms, timesFloor: r.p50Ms / floorMs }));
  return { floorMs, putAtOne };
}

/** One line for the replication round floor and the puts at 1 in flight against it. */
export function replicationRoundLine(round) {
  if (round === null) return 'Replication round floor: not measured.';
  const puts = round.putAtOne.map((p) => `${p.system} ${ms(p.p50Ms)} ms (${fmt(p.timesFloor, 2)}×)`).join(', ');
  return `Replication round floor (WebSocket round trip + two fdatasyncs at once): ${fmt(round.floorMs, 3)} ms. Put at 1 in flight, p50: ${puts || 'not measured'}.`;
}

export function floorsTable(floors) {
  const lines = ['| floor | p50 ms | p99 ms | ops/s | runs |', '|---|---|---|---|---|'];
  const labels = {
    fdatasync: 'fdatasync of a 256 B append',
    fdatasyncPair: 'fdatasync of a 256 B append to each of two files at once',
    wsRtt: 'WebSocket round trip on loopback, 1 in flight',
  };
  for (const [name, f] of Object.entries(floors)) {
    lines.push(`| ${labels[name] ?? name} | ${fmt(f.p50Ms, 3)} | ${fmt(f.p99Ms, 3)} | ${fmt(f.opsPerSec)} | ${f.runs} |`);
  }
  return lines.join('\n');
}

export function baselineTable(rows) {
  const lines = [
    '| workload | in flight | ops/s kvapp / baseline | ×ops/s | p50 ms kvapp / baseline | ×p50 | ×p99 | server CPU µs/op kvapp / baseline | ×CPU |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.workload} | ${r.concurrency} | ${fmt(r.kvapp.opsPerSec)} / ${fmt(r.baseline.opsPerSec)} | **${fmt(r.throughputRatio, 2)}×** | ${ms(r.kvapp.p50Ms)} / ${ms(r.baseline.p50Ms)} | ${fmt(r.p50Ratio, 2)}× | ${fmt(r.p99Ratio, 2)}× | ${fmt(r.kvapp.serverCpuUsPerOp)} / ${fmt(r.baseline.serverCpuUsPerOp)} | ${fmt(r.cpuRatio, 2)}× |`,
    );
  }
  return lines.join('\n');
}

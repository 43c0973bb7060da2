// The bench's arithmetic and tables, on made-up windows: medians over runs, percentiles, and
// kvapp against etcd's best client (the comparison --vs etcd prints).
import t from 'tap';
import {
  baselineTable,
  compare,
  compareBaseline,
  comparisonTable,
  median,
  percentiles,
  replicationRound,
  replicationRoundLine,
  resultsTable,
  summarize,
  summarizeFloors,
} from '../../bench/aggregate.mjs';

const window = (
  system: string,
  workload: string,
  concurrency: number,
  run: number,
  opsPerSec: number,
  more: Record<string, unknown> = {},
) => ({
  system,
  workload,
  concurrency,
  run,
  opsPerSec,
  p50Ms: opsPerSec / 1000,
  p99Ms: opsPerSec / 100,
  p999Ms: opsPerSec / 10,
  errors: 0,
  serverCpuUsPerOp: 1e6 / opsPerSec,
  peakRssMbPerNode: [run * 10, run * 20, run * 30],
  clientCpuCores: [0.1 * run, 0.2],
  ...more,
});

t.test('percentiles pick the sample at each rank; an empty window gives nulls', async (t) => {
  const latencies = Array.from({ length: 1000 }, (_, i) => 1000 - i); // 1..1000 in reverse
  t.same(percentiles(latencies), { p50Ms: 501, p99Ms: 991, p999Ms: 1000 });
  t.same(percentiles([]), { p50Ms: null, p99Ms: null, p999Ms: null });
});

t.test('median of odd and even counts, ignoring nulls', async (t) => {
  t.equal(median([3, 1, 2]), 2);
  t.equal(median([4, 1, 3, 2]), 2.5);
  t.equal(median([null, 5, null]), 5);
  t.equal(median([]), null);
});

t.test('summarize: medians over runs per case, the largest RSS per node, errors summed', async (t) => {
  const results = summarize([
    window('kvapp', 'put', 64, 1, 1000, { errors: 2 }),
    window('kvapp', 'put', 64, 2, 3000),
    window('kvapp', 'put', 64, 3, 2000, { errors: 1 }),
    window('kvapp', 'get-lin', 64, 1, 5000),
  ]);
  t.equal(results.length, 2);
  const put = results.find((r: { workload: string }) => r.workload === 'put');
  t.match(put, {
    system: 'kvapp',
    concurrency: 64,
    opsPerSec: 2000,
    p50Ms: 2,
    p99Ms: 20,
    p999Ms: 200,
    serverCpuUsPerOp: 500,
    peakRssMb: 90,
    runs: 3,
    errors: 3,
  });
  t.same(put.peakRssMbPerNode, [30, 60, 90]);
  t.same(put.opsPerSecRuns, [1000, 3000, 2000]);
  t.equal(put.clientCpuCoresMax, 0.30000000000000004);
});

t.test('compare: kvapp against the etcd client that did more, per workload and concurrency', async (t) => {
  const results = summarize([
    window('kvapp', 'put', 64, 1, 3000),
    window('etcd-grpc', 'put', 64, 1, 1000),
    window('etcd-http', 'put', 64, 1, 1500),
    window('kvapp', 'get-lin', 1, 1, 800),
    window('etcd-grpc', 'get-lin', 1, 1, 1000),
    window('etcd-http', 'get-lin', 1, 1, 400),
    window('kvapp', 'get-ser', 16, 1, 900), // etcd did not run it: no row
  ]);
  const rows = compare(results);
  t.equal(rows.length, 2);
  const put = rows.find((r: { workload: string }) => r.workload === 'put');
  t.equal(put.etcdClient, 'http');
  t.equal(put.throughputRatio, 2);
  t.same(put.etcdByClient, { grpc: 1000, http: 1500 });
  const get = rows.find((r: { workload: string }) => r.workload === 'get-lin');
  t.equal(get.etcdClient, 'grpc');
  t.equal(get.throughputRatio, 0.8);
  const table = comparisonTable(rows);
  t.match(
    table,
    /\| put \| 64 \| 3,000 \| 1,500 \(http\) \| \*\*2\.00×\*\* \| grpc 1,000, http 1,500 \| 30 \/ 15 \| 333 \/ 667 \| 30 \/ 30 \|/,
  );
  t.match(table, /\| get-lin \| 1 \| 800 \| 1,000 \(grpc\) \| \*\*0\.80×\*\*/);
  t.same(compare(results.filter((r: { system: string }) => r.system === 'kvapp')), [], 'nothing to compare without etcd');
});

t.test('compareBaseline: kvapp against another build of itself, ratio by ratio', async (t) => {
  const results = summarize([
    window('kvapp', 'put', 1, 1, 400, { serverCpuUsPerOp: 1800 }),
    window('kvapp', 'put', 1, 2, 600, { serverCpuUsPerOp: 2200 }),
    window('kvapp-baseline', 'put', 1, 1, 250, { serverCpuUsPerOp: 4000 }),
    window('kvapp-baseline', 'put', 1, 2, 250, { serverCpuUsPerOp: 4000 }),
    window('etcd-grpc', 'put', 1, 1, 1000), // not a baseline: ignored
    window('kvapp', 'get-lin', 64, 1, 900), // the baseline did not run it: no row
  ]);
  const rows = compareBaseline(results, 'kvapp-baseline');
  t.equal(rows.length, 1);
  const put = rows[0];
  t.match(put, { workload: 'put', concurrency: 1 });
  t.equal(put.throughputRatio, 2, 'median 500 ops/s against 250');
  t.equal(put.p50Ratio, 2, 'p50 0.5 ms against 0.25 ms');
  t.equal(put.cpuRatio, 0.5, 'CPU per op 2,000 µs against 4,000');
  t.match(
    baselineTable(rows),
    /\| put \| 1 \| 500 \/ 250 \| \*\*2\.00×\*\* \| 0\.50 \/ 0\.25 \| 2\.00× \| 2\.00× \| 2,000 \/ 4,000 \| 0\.50× \|/,
  );
  t.same(compareBaseline(results, 'kvapp-other'), [], 'no rows without that baseline');
});

t.test('the results table has a row per case with every run', async (t) => {
  const table = resultsTable(summarize([window('kvapp', 'put', 1, 1, 250), window('kvapp', 'put', 1, 2, 300)]));
  t.match(table, /\| kvapp \| put \| 1 \| 275 \(250, 300\) \|/);
});

t.test('floors: the median p50 of each floor over runs', async (t) => {
  const floors = summarizeFloors([
    { name: 'fdatasync', p50Ms: 0.3, p99Ms: 1, opsPerSec: 3000 },
    { name: 'fdatasync', p50Ms: 0.5, p99Ms: 2, opsPerSec: 2000 },
    { name: 'fdatasync', p50Ms: 0.2, p99Ms: 3, opsPerSec: 4000 },
    { name: 'wsRtt', p50Ms: 0.08, p99Ms: 0.2, opsPerSec: 12000 },
  ]);
  t.same(floors, {
    fdatasync: { p50Ms: 0.3, p99Ms: 2, opsPerSec: 3000, runs: 3 },
    wsRtt: { p50Ms: 0.08, p99Ms: 0.2, opsPerSec: 12000, runs: 1 },
  });
});

t.test('replication round: a round trip plus two fdatasyncs at once, and each put at 1 in flight against it', async (t) => {
  const floors = {
    fdatasync: { p50Ms: 0.3, p99Ms: 1, opsPerSec: 3000, runs: 1 },
    fdatasyncPair: { p50Ms: 0.45, p99Ms: 1, opsPerSec: 2000, runs: 1 },
    wsRtt: { p50Ms: 0.05, p99Ms: 0.2, opsPerSec: 12000, runs: 1 },
  };
  const results = summarize([
    window('kvapp', 'put', 1, 1, 1000),
    window('etcd-grpc', 'put', 1, 1, 1500),
    window('kvapp', 'put', 64, 1, 9000),
  ]);
  const round = replicationRound(floors, results);
  t.ok(round !== null);
  t.equal(round!.floorMs, 0.5, 'the round trip plus the pair, not the single fdatasync');
  t.same(
    round!.putAtOne.map((p) => [p.system, p.timesFloor]),
    [
      ['kvapp', 2],
      ['etcd-grpc', 3],
    ],
    'only puts at 1 in flight, p50 over the floor',
  );
  t.match(replicationRoundLine(round), /0\.500 ms\. Put at 1 in flight, p50: kvapp 1\.0 ms \(2\.00×\), etcd-grpc 1\.5 ms \(3\.00×\)/);
  t.equal(replicationRound({ wsRtt: floors.wsRtt }, results), null, 'no pair floor, no round');
  t.match(replicationRoundLine(null), /not measured/);
});

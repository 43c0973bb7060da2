#!/usr/bin/env node
// `npm run bench`: a durable 3-node kvapp cluster of real kvapp-node processes on 127.0.0.1,
// driven closed loop from separate load processes (--procs) at 1, 16, 64 and 256 requests in
// flight, for puts (16-byte keys, 128-byte values over 10,000 preloaded keys), linearizable gets
// and serializable gets. Each case: a warm-up, then a fixed window; every run starts a fresh
// cluster; the figures are medians over runs. Reported per case: throughput, p50/p99/p99.9
// latency, the servers' CPU per operation (/proc/<pid>/stat of the three server processes over
// the window), peak RSS per node (sampled VmRSS) and each load process's CPU. The floors of the
// machine are measured in every run: fdatasync of a 256 B append, a WebSocket round trip.
//
// `--vs etcd` runs etcd 3.4 the same way (3 durable members, same sizes, same load processes)
// through each of its clients (gRPC and the JSON gateway), alternating the systems run by run,
// and compares kvapp with etcd's best client. See USAGE in options.mjs for the flags.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  baselineTable,
  compare,
  compareBaseline,
  comparisonTable,
  floorsTable,
  fmt,
  median,
  percentiles,
  replicationRound,
  replicationRoundLine,
  resultsTable,
  summarize,
  summarizeFloors,
} from './aggregate.mjs';
import { ensureEtcd, startEtcdCluster } from './etcd-cluster.mjs';
import { fsyncFloor, fsyncPairFloor, wsRttFloor } from './floors.mjs';
import { startKvappCluster } from './kvapp-cluster.mjs';
import { startLoadFleet } from './load-fleet.mjs';
import { BASELINE_SYSTEM, parseBenchArgs, USAGE, UsageError } from './options.mjs';
import { cpuUsBetween, startRssSampler, totalCpuUs } from './proc-stats.mjs';

/** Requests in flight while the keyspace is preloaded (not measured). */
const PRELOAD_IN_FLIGHT = 64;
/** How long the idle cluster's CPU is sampled after the preload: ticks, heartbeats, metrics. */
const IDLE_SAMPLE_MS = 1000;
/** A load process at this share of one core may itself be the limit; the report says so. */
const CLIENT_CPU_WARN_CORES = 0.9;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let options;
try {
  options = parseBenchArgs(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`bench: ${error.message}`);
  process.exit(2);
}
if (options === null) {
  console.log(USAGE);
} else {
  try {
    await main(options);
  } catch (error) {
    console.error(`bench: ${error.message}`);
    process.exitCode = 1;
  }
  // Whatever handle is left (a keep-alive socket, a child's pipe), the bench is over.
  setTimeout(() => process.exit(), 1000).unref();
}

/** Starts `system`'s cluster; its `driver` is the load processes' client for it. */
async function startSystem(system, dataDir, baselineCli, etcdBin) {
  if (system === 'kvapp') return { ...(await startKvappCluster(dataDir)), driver: 'kvapp' };
  // Another build of kvapp, driven by this checkout's kvapp client.
  if (system === BASELINE_SYSTEM) return { ...(await startKvappCluster(dataDir, baselineCli, BASELINE_SYSTEM)), driver: 'kvapp' };
  return { ...(await startEtcdCluster(etcdBin, dataDir)), driver: system };
}

async function main(o) {
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg();
  const systems = [
    'kvapp',
    ...(o.baselineCli !== null ? [BASELINE_SYSTEM] : []),
    ...(o.vsEtcd ? o.etcdClients.map((client) => `etcd-${client}`) : []),
  ];
  console.log(`# kvapp bench ${startedAt}  node ${process.version}  ${cpus().length} cpus  ${loadLine(loadAtStart)}`);
  console.log(
    `# ${o.runs} runs x ${systems.join(', ')} x ${o.workloads.join(',')} x in flight ${o.concurrency.join(',')}; ${o.procs} load processes; warm-up ${o.warmupS}s + ${o.durationS}s window`,
  );
  const etcdBin = o.vsEtcd ? await ensureEtcd() : null;

  const tempDir = mkdtempSync(join(tmpdir(), 'kvapp-bench-'));
  const fleet = startLoadFleet(o.procs);
  const running = new Set();
  let cleanedUp = null;
  const cleanup = () =>
    (cleanedUp ??= (async () => {
      fleet.kill();
      await Promise.all([...running].map((cluster) => cluster.stop()));
      rmSync(tempDir, { recursive: true, force: true });
    })());
  const onSignal = (signal) => {
    console.error(`\nbench: ${signal}, stopping the clusters`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const samples = [];
  const floorSamples = [];
  const idleSamples = [];
  try {
    for (let run = 1; run <= o.runs; run++) {
      // Floors first in each run, so that they see the same machine as the figures after them.
      const fsync = await fsyncFloor(tempDir, 1.5);
      const fsyncPair = await fsyncPairFloor(tempDir, 1.5);
      const ws = await wsRttFloor(1.5, 0.3);
      floorSamples.push({ run, ...fsync }, { run, ...fsyncPair }, { run, ...ws });
      console.log(
        `run ${run} floors: fdatasync p50 ${fmt(fsync.p50Ms, 3)} ms, two at once ${fmt(fsyncPair.p50Ms, 3)} ms, ws round trip p50 ${fmt(ws.p50Ms, 3)} ms`,
      );
      // Alternate which system goes first, so that a drift of the machine does not favour one.
      const order = run % 2 === 1 ? systems : [...systems].reverse();
      for (const system of order) {
        const dataDir = join(tempDir, `${system}-run${run}`);
        const cluster = await startSystem(system, dataDir, o.baselineCli, etcdBin);
        running.add(cluster);
        try {
          const shape = {
            driver: cluster.driver,
            endpoints: cluster.endpoints,
            target: cluster.target,
            keys: o.keys,
            keyBytes: o.keyBytes,
            valueBytes: o.valueBytes,
          };
          await fleet.open(Math.min(PRELOAD_IN_FLIGHT, o.keys), shape);
          await fleet.preload(o.keys);
          await fleet.close();
          const idle0 = totalCpuUs(cluster.pids());
          await sleep(IDLE_SAMPLE_MS);
          const idleUs = cpuUsBetween(idle0, totalCpuUs(cluster.pids()));
          idleSamples.push({ system, run, cores: idleUs === null ? null : idleUs / 1000 / IDLE_SAMPLE_MS });
          for (const workload of o.workloads) {
            for (const concurrency of o.concurrency) {
              const sample = { system, workload, concurrency, run, ...(await measure(fleet, cluster, shape, workload, concurrency, o)) };
              samples.push(sample);
              printSample(sample);
            }
          }
        } finally {
          await cluster.stop();
          running.delete(cluster);
          rmSync(dataDir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const results = summarize(samples);
  const floors = summarizeFloors(floorSamples);
  const round = replicationRound(floors, results);
  const comparison = o.vsEtcd ? compare(results) : [];
  const againstBaseline = o.baselineCli !== null ? compareBaseline(results, BASELINE_SYSTEM) : [];
  const idleCores = Object.fromEntries(systems.map((s) => [s, median(idleSamples.filter((x) => x.system === s).map((x) => x.cores))]));
  const loadAtEnd = loadavg();

  console.log('');
  console.log(
    `Medians of ${o.runs} runs; ${o.durationS}s windows after ${o.warmupS}s warm-up; ${o.procs} load processes. ${loadLine(loadAtStart)} at the start, ${loadLine(loadAtEnd)} at the end.`,
  );
  console.log(
    `Idle cluster CPU (cores): ${Object.entries(idleCores)
      .map(([s, c]) => `${s} ${fmt(c, 3)}`)
      .join(', ')}.`,
  );
  console.log('');
  console.log(resultsTable(results));
  console.log('');
  console.log(floorsTable(floors));
  console.log(replicationRoundLine(round));
  if (o.vsEtcd) {
    console.log('');
    console.log(comparisonTable(comparison));
  }
  if (o.baselineCli !== null) {
    console.log('');
    console.log(`kvapp against ${BASELINE_SYSTEM} (${o.baselineCli}):`);
    console.log(baselineTable(againstBaseline));
  }
  const busyClients = results.filter((r) => r.clientCpuCoresMax !== null && r.clientCpuCoresMax >= CLIENT_CPU_WARN_CORES);
  if (busyClients.length > 0) {
    console.log('');
    console.log(
      `Note: a load process used >= ${CLIENT_CPU_WARN_CORES} cores in ${busyClients.map((r) => `${r.system} ${r.workload} ${r.concurrency}`).join('; ')}: the client may be the limit there (try --procs).`,
    );
  }
  const errors = results.filter((r) => r.errors > 0);
  if (errors.length > 0)
    console.log(
      `\nErrors: ${errors.map((r) => `${r.system} ${r.workload} ${r.concurrency}: ${r.errors}`).join('; ')} (see lastError in the samples).`,
    );

  if (o.json !== null) {
    const report = {
      results: results.map(({ system, workload, concurrency, opsPerSec, p50Ms, p99Ms, p999Ms, serverCpuUsPerOp, peakRssMb, ...more }) => ({
        system,
        workload,
        concurrency,
        opsPerSec,
        p50Ms,
        p99Ms,
        p999Ms,
        serverCpuUsPerOp,
        peakRssMb,
        ...more,
      })),
      floors,
      replicationRound: round,
      comparison: comparison.map((r) => ({
        workload: r.workload,
        concurrency: r.concurrency,
        etcdClient: r.etcdClient,
        throughputRatio: r.throughputRatio,
        kvappOpsPerSec: r.kvapp.opsPerSec,
        etcdOpsPerSec: r.etcd.opsPerSec,
        etcdOpsPerSecByClient: r.etcdByClient,
        kvappP99Ms: r.kvapp.p99Ms,
        etcdP99Ms: r.etcd.p99Ms,
        kvappServerCpuUsPerOp: r.kvapp.serverCpuUsPerOp,
        etcdServerCpuUsPerOp: r.etcd.serverCpuUsPerOp,
        kvappPeakRssMb: r.kvapp.peakRssMb,
        etcdPeakRssMb: r.etcd.peakRssMb,
      })),
      baseline: againstBaseline.map((r) => ({
        workload: r.workload,
        concurrency: r.concurrency,
        throughputRatio: r.throughputRatio,
        p50Ratio: r.p50Ratio,
        p99Ratio: r.p99Ratio,
        cpuRatio: r.cpuRatio,
      })),
      idleClusterCores: idleCores,
      machine: { cpus: cpus().length, node: process.version, loadavgAtStart: loadAtStart, loadavgAtEnd: loadAtEnd },
      startedAt,
      finishedAt: new Date().toISOString(),
      options: o,
      samples,
      floorSamples,
    };
    writeFileSync(o.json, JSON.stringify(report, null, 2) + '\n');
    console.log(`\n# JSON: ${o.json}`);
  }
}

/** One case on a running cluster: warm-up, then the window, with the servers' CPU and RSS read around it. */
async function measure(fleet, cluster, shape, workload, concurrency, o) {
  await fleet.open(concurrency, shape);
  try {
    await fleet.start(workload);
    await sleep(o.warmupS * 1000);
    const pids = cluster.pids();
    const rss = startRssSampler(pids);
    const cpu0 = totalCpuUs(pids);
    const t0 = performance.now();
    fleet.mark();
    await sleep(o.durationS * 1000);
    const results = fleet.stop();
    const cpuUs = cpuUsBetween(cpu0, totalCpuUs(pids));
    const elapsedMs = performance.now() - t0;
    const peakRssMbPerNode = rss.stop();
    const parts = await results;
    const latencies = [];
    for (const part of parts) for (const ms of part.latencies) latencies.push(ms);
    const ops = latencies.length;
    return {
      ops,
      opsPerSec: parts.reduce((sum, p) => sum + p.latencies.length / (p.elapsedMs / 1000), 0),
      ...percentiles(latencies),
      errors: parts.reduce((sum, p) => sum + p.errors, 0),
      lastError: parts.find((p) => p.lastError !== null)?.lastError ?? null,
      serverCpuUsPerOp: ops > 0 && cpuUs !== null ? cpuUs / ops : null,
      serverCores: cpuUs === null ? null : cpuUs / 1000 / elapsedMs,
      peakRssMbPerNode,
      clientCpuCores: parts.map((p) => p.cpuCores),
      undrained: parts.filter((p) => !p.drained).length,
    };
  } finally {
    await fleet.close();
  }
}

function printSample(s) {
  console.log(
    `run ${s.run} ${s.system.padEnd(9)} ${s.workload.padEnd(7)} ${String(s.concurrency).padStart(3)} in flight ${fmt(s.opsPerSec).padStart(7)} ops/s  p50 ${fmt(s.p50Ms, 2)} p99 ${fmt(s.p99Ms, 2)} p99.9 ${fmt(s.p999Ms, 2)} ms  server ${fmt(s.serverCpuUsPerOp)} µs/op  RSS ${s.peakRssMbPerNode.map((x) => fmt(x)).join('/')} MB  client CPU ${s.clientCpuCores.map((c) => fmt(c, 2)).join('/')}  errors ${s.errors}`,
  );
}

function loadLine([one, five, fifteen]) {
  return `load average ${one.toFixed(2)}, ${five.toFixed(2)}, ${fifteen.toFixed(2)}`;
}

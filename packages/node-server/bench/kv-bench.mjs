#!/usr/bin/env node
// kvapp end to end: a local 3-node cluster of real kvapp-node processes (durable: the WAL
// fsyncs every batch) on 127.0.0.1, driven by closed-loop KvClient clients (C clients, each with
// one operation in flight, so C operations in flight in all). Workloads: `put` (128-byte values
// over 10,000 keys) and `get-lin` (linearizable reads, ReadIndex on the leader). In the same run
// it measures two floors of this machine, so that every figure has a yardstick: the WebSocket
// round trip over loopback (two processes, C messages in flight) and the fdatasync of a small
// append on the disk that holds the data. Runs are interleaved (run 1 of every case, then run 2,
// ...) and the medians of N runs are reported, as JSON under store/bench/ and as a table.
//
//   npm run bench                                     (builds first)
//   node packages/node-server/bench/kv-bench.mjs [--duration 3] [--warmup 1] [--concurrency 1,16,64]
//        [--runs 3] [--workloads put,get-lin] [--keys 10000] [--value-bytes 128] [--out FILE] [--keep-data]
//
// The machine is shared: read the load average printed with the figures before comparing runs.
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket, WebSocketServer } from 'ws';
import { KvClient } from '@kvapp/client';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const CLI = resolve(HERE, '../dist/cli.js');
const REPO = resolve(HERE, '../../..');
const HOST = '127.0.0.1';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// The echo server of the WebSocket floor runs in its own process, as a node would.
if (process.argv[2] === '--echo-server') {
  const wss = new WebSocketServer({ host: HOST, port: 0, perMessageDeflate: false });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  wss.on('listening', () => process.send({ port: wss.address().port }));
  process.on('message', (m) => m === 'exit' && process.exit(0));
  process.on('disconnect', () => process.exit(0));
} else {
  await main();
}

async function main() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '1,16,64' },
      runs: { type: 'string', default: '3' },
      workloads: { type: 'string', default: 'put,get-lin' },
      keys: { type: 'string', default: '10000' },
      'value-bytes': { type: 'string', default: '128' },
      out: { type: 'string' },
      'keep-data': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 15).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
    return;
  }
  const o = {
    durationS: Number(values.duration),
    warmupS: Number(values.warmup),
    concurrency: values.concurrency.split(',').map(Number),
    runs: Number(values.runs),
    workloads: values.workloads.split(','),
    keys: Number(values.keys),
    valueBytes: Number(values['value-bytes']),
  };
  for (const w of o.workloads) if (!['put', 'get-lin'].includes(w)) throw new Error(`unknown workload ${w}`);
  if (!(o.durationS > 0 && o.warmupS >= 0 && o.runs >= 1 && o.concurrency.every((c) => c >= 1))) throw new Error('bad flags');

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const benchDir = join(REPO, 'store', 'bench');
  const dataDir = join(benchDir, `data-${stamp}`);
  mkdirSync(dataDir, { recursive: true });
  const started = { at: new Date().toISOString(), loadavg: loadavg(), uptime: uptimeLine() };
  console.log(`# kvapp bench ${started.at}  node ${process.version}  ${cpus().length} cpus  ${started.uptime}`);
  console.log(`# ${o.runs} runs x ${o.workloads.join(',')} x concurrency ${o.concurrency.join(',')}; warmup ${o.warmupS}s + ${o.durationS}s each`);

  const cluster = await startCluster(dataDir);
  const stopAll = () => cluster.stop();
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));
  let idleCores;
  const samples = []; // { run, kind, workload|case, concurrency, opsPerSec, p50, p99, p999, ... }
  try {
    await cluster.waitLeader();
    // What the cluster burns doing nothing (ticks, heartbeats, metrics), to read server CPU per op against.
    await sleep(500);
    const idle0 = cluster.cpuUs();
    await sleep(2000);
    idleCores = (cluster.cpuUs() - idle0) / 2e6;
    console.log(`# idle 3-node cluster: ${idleCores.toFixed(3)} cores`);
    const echo = await startEcho();
    try {
      for (let run = 1; run <= o.runs; run++) {
        // Floors first in each run, so that they see the same machine as the figures after them.
        samples.push({ run, kind: 'floor', case: 'fdatasync', concurrency: 1, ...(await fsyncFloor(dataDir, Math.min(1.5, o.durationS))) });
        for (const c of o.concurrency) samples.push({ run, kind: 'floor', case: 'ws-rtt', concurrency: c, ...(await wsFloor(echo.port, c, Math.min(0.5, o.warmupS), Math.min(2, o.durationS))) });
        for (const workload of o.workloads) {
          for (const c of o.concurrency) {
            const s = await kvLoad(cluster, workload, c, o);
            samples.push({ run, kind: 'kvapp', workload, concurrency: c, ...s });
            console.log(
              `run ${run} ${workload.padEnd(7)} c=${String(c).padStart(3)} ${fmt(s.opsPerSec, 0).padStart(7)} ops/s  p50 ${fmt(s.p50)} p99 ${fmt(s.p99)} p999 ${fmt(s.p999)} ms  errors ${s.errors}  server CPU ${fmt(s.serverCpuUsPerOp, 0)} us/op  load ${s.loadavg1.toFixed(1)}`,
            );
          }
        }
      }
    } finally {
      echo.stop();
    }
  } finally {
    await cluster.stop();
    if (!values['keep-data']) rmSync(dataDir, { recursive: true, force: true });
  }

  const result = { ...summarize(samples, o, started), idleClusterCores: idleCores };
  const out = values.out ?? join(benchDir, `kv-bench-${stamp}.json`);
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log('');
  console.log(table(result));
  console.log(`\n# JSON: ${out}`);
}

// ---------------------------------------------------------------------------------------------
// The cluster.

async function freePort() {
  const server = createServer();
  server.listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

async function startCluster(dataDir) {
  const nodes = [];
  for (let id = 1; id <= 3; id++) nodes.push({ id, peerPort: await freePort(), clientPort: await freePort(), child: null, output: '' });
  for (const n of nodes) {
    const args = [
      CLI,
      '--id', String(n.id),
      '--data-dir', join(dataDir, `n${n.id}`),
      '--peer-listen', `${HOST}:${n.peerPort}`,
      '--client-listen', `${HOST}:${n.clientPort}`,
      '--peers', nodes.filter((p) => p !== n).map((p) => `${p.id}=${HOST}:${p.peerPort}`).join(','),
      '--client-addresses', nodes.map((p) => `${p.id}=${HOST}:${p.clientPort}`).join(','),
      '--cluster-secret', 'kvapp-bench-secret',
      '--log-level', 'warn',
    ];
    // KVAPP_BENCH_NODE_FLAGS: extra flags for the node processes' `node`, e.g. --cpu-prof.
    const nodeFlags = (process.env.KVAPP_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    n.child = spawn(process.execPath, [...nodeFlags, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    const keep = (chunk) => (n.output = (n.output + chunk.toString()).slice(-10_000));
    n.child.stdout.on('data', keep);
    n.child.stderr.on('data', keep);
    n.child.once('exit', (code, signal) => {
      n.child = null;
      if (!stopping) {
        console.error(`node ${n.id} exited (${code ?? signal}) during the bench:\n${n.output}`);
        process.exitCode = 1;
      }
    });
  }
  let stopping = false;
  const endpoints = nodes.map((n) => `${HOST}:${n.clientPort}`);
  return {
    nodes,
    endpoints,
    async waitLeader() {
      const client = new KvClient({ endpoints });
      try {
        for (let i = 0; i < 200; i++) {
          const statuses = await client.statusAll();
          if (statuses.some((s) => s.ok && s.status.role === 'leader')) return;
          await sleep(50);
        }
        throw new Error('no leader within 10 s');
      } finally {
        client.close();
      }
    },
    /** utime+stime of the three node processes, in microseconds. */
    cpuUs() {
      let total = 0;
      for (const n of nodes) {
        if (n.child === null) continue;
        const fields = readFileSync(`/proc/${n.child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        total += (Number(fields[11]) + Number(fields[12])) * (1e6 / 100); // clock ticks (USER_HZ 100)
      }
      return total;
    },
    async stop() {
      stopping = true;
      await Promise.all(
        nodes.map(async (n) => {
          const child = n.child;
          if (child === null) return;
          const exited = once(child, 'exit');
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }),
      );
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The load: C closed-loop clients, each its own KvClient (its own session and connection).

async function kvLoad(cluster, workload, concurrency, o) {
  const value = 'v'.repeat(o.valueBytes);
  const clients = Array.from({ length: concurrency }, () => new KvClient({ endpoints: cluster.endpoints, opDeadlineMs: 10_000 }));
  // Sessions and leader discovery happen before the clock starts.
  await Promise.all(clients.map((c, i) => c.put(`k${String(i % o.keys).padStart(15, '0')}`, value)));
  const latencies = [];
  let errors = 0;
  let measuring = false;
  let stop = false;
  const key = () => `k${String(Math.floor(Math.random() * o.keys)).padStart(15, '0')}`; // 16-byte keys
  const loop = async (client) => {
    while (!stop) {
      const t0 = performance.now();
      const outcome = workload === 'put' ? await client.put(key(), value) : await client.get(key());
      const ms = performance.now() - t0;
      if (outcome.status !== 'ok') errors++;
      else if (measuring) latencies.push(ms);
    }
  };
  const loops = clients.map(loop);
  await sleep(o.warmupS * 1000);
  const cpu0 = cluster.cpuUs();
  const t0 = performance.now();
  measuring = true;
  const errors0 = errors;
  await sleep(o.durationS * 1000);
  measuring = false;
  const elapsedS = (performance.now() - t0) / 1000;
  const cpuUs = cluster.cpuUs() - cpu0;
  const errorsIn = errors - errors0;
  stop = true;
  await Promise.all(loops);
  for (const c of clients) c.close();
  const ops = latencies.length;
  return { ops, opsPerSec: ops / elapsedS, ...percentiles(latencies), errors: errorsIn, serverCpuUsPerOp: ops > 0 ? cpuUs / ops : null, loadavg1: loadavg()[0] };
}

// ---------------------------------------------------------------------------------------------
// Floors.

async function startEcho() {
  const child = fork(fileURLToPath(import.meta.url), ['--echo-server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, NODE_OPTIONS: '' } });
  const [{ port }] = await once(child, 'message');
  return { port, stop: () => child.kill('SIGKILL') };
}

/** C messages in flight over one connection, each echo sending the next; a put request's size. */
async function wsFloor(port, concurrency, warmupS, durationS) {
  const ws = new WebSocket(`ws://${HOST}:${port}/`, { perMessageDeflate: false });
  await once(ws, 'open');
  const payload = 'x'.repeat(200);
  const sent = new Float64Array(concurrency);
  const latencies = [];
  let measuring = false;
  let stop = false;
  let outstanding = 0;
  const send = (slot) => {
    sent[slot] = performance.now();
    outstanding++;
    ws.send(`${String(slot).padStart(6, '0')}${payload}`);
  };
  const done = new Promise((resolveDone) => {
    ws.on('message', (data) => {
      const now = performance.now();
      outstanding--;
      const slot = Number(data.toString('latin1', 0, 6));
      if (measuring) latencies.push(now - sent[slot]);
      if (!stop) send(slot);
      else if (outstanding === 0) resolveDone();
    });
  });
  for (let i = 0; i < concurrency; i++) send(i);
  await sleep(warmupS * 1000);
  measuring = true;
  const t0 = performance.now();
  await sleep(durationS * 1000);
  measuring = false;
  const elapsedS = (performance.now() - t0) / 1000;
  stop = true;
  await done;
  ws.close();
  return { ops: latencies.length, opsPerSec: latencies.length / elapsedS, ...percentiles(latencies) };
}

/** Append 256 bytes + fdatasync, awaited one after another (what one WAL batch pays, at least). */
async function fsyncFloor(dir, durationS) {
  const file = join(dir, 'fsync-floor.tmp');
  const fh = await open(file, 'a');
  const buf = Buffer.alloc(256, 0x61);
  const latencies = [];
  const t0 = performance.now();
  const end = t0 + durationS * 1000;
  try {
    while (performance.now() < end) {
      const s = performance.now();
      await fh.write(buf);
      await fh.datasync();
      latencies.push(performance.now() - s);
    }
  } finally {
    await fh.close();
    rmSync(file, { force: true });
  }
  return { ops: latencies.length, opsPerSec: latencies.length / ((performance.now() - t0) / 1000), ...percentiles(latencies) };
}

// ---------------------------------------------------------------------------------------------
// Figures.

function percentiles(latencies) {
  if (latencies.length === 0) return { p50: null, p99: null, p999: null };
  const sorted = Float64Array.from(latencies).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999) };
}

function median(xs) {
  const v = xs.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

function summarize(samples, o, started) {
  const med = (rows, field) => median(rows.map((r) => r[field]));
  const floorOf = (name, c) => {
    const rows = samples.filter((s) => s.kind === 'floor' && s.case === name && s.concurrency === c);
    return { opsPerSec: med(rows, 'opsPerSec'), p50: med(rows, 'p50'), p99: med(rows, 'p99'), p999: med(rows, 'p999') };
  };
  const fsync = floorOf('fdatasync', 1);
  const floors = { fdatasync: fsync, wsRtt: Object.fromEntries(o.concurrency.map((c) => [c, floorOf('ws-rtt', c)])) };
  const results = [];
  for (const workload of o.workloads) {
    for (const c of o.concurrency) {
      const rows = samples.filter((s) => s.kind === 'kvapp' && s.workload === workload && s.concurrency === c);
      const r = {
        workload,
        concurrency: c,
        opsPerSec: med(rows, 'opsPerSec'),
        p50: med(rows, 'p50'),
        p99: med(rows, 'p99'),
        p999: med(rows, 'p999'),
        errors: rows.reduce((a, s) => a + s.errors, 0),
        serverCpuUsPerOp: med(rows, 'serverCpuUsPerOp'),
        opsPerSecRuns: rows.map((s) => Math.round(s.opsPerSec)),
      };
      const ws = floors.wsRtt[c];
      r.ratios = {
        p50OverWsRtt: ratio(r.p50, ws.p50),
        p50OverFsync: ratio(r.p50, fsync.p50),
        opsPerSecOverWsRtt: ratio(r.opsPerSec, ws.opsPerSec),
      };
      results.push(r);
    }
  }
  return {
    benchmark: 'kvapp kv-bench',
    startedAt: started.at,
    finishedAt: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    uptimeAtStart: started.uptime,
    uptimeAtEnd: uptimeLine(),
    options: o,
    floors,
    results,
    samples,
  };
}

function ratio(a, b) {
  return a === null || b === null || b === 0 ? null : a / b;
}

function fmt(x, digits = 2) {
  return x === null || x === undefined ? '-' : x.toFixed(digits);
}

function table(r) {
  const lines = [];
  lines.push(`Medians of ${r.options.runs} runs, ${r.options.durationS}s each after ${r.options.warmupS}s warmup. Latency in ms. Load at start: ${r.uptimeAtStart}; at end: ${r.uptimeAtEnd}.`);
  lines.push(`Server CPU is the three nodes' user+system time over the measured window, per operation; the idle cluster used ${fmt(r.idleClusterCores, 3)} cores.`);
  lines.push('');
  lines.push('| workload | clients | ops/s (runs) | p50 | p99 | p999 | p50 / ws RTT | p50 / fdatasync | ops/s / ws floor | server CPU µs/op | errors |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const x of r.results) {
    lines.push(
      `| ${x.workload} | ${x.concurrency} | ${fmt(x.opsPerSec, 0)} (${x.opsPerSecRuns.join(', ')}) | ${fmt(x.p50)} | ${fmt(x.p99)} | ${fmt(x.p999)} | ${fmt(x.ratios.p50OverWsRtt, 1)}× | ${fmt(x.ratios.p50OverFsync, 1)}× | ${fmt(x.ratios.opsPerSecOverWsRtt, 3)} | ${fmt(x.serverCpuUsPerOp, 0)} | ${x.errors} |`,
    );
  }
  lines.push('');
  lines.push('| floor | in flight | ops/s | p50 | p99 | p999 |');
  lines.push('|---|---|---|---|---|---|');
  const f = r.floors.fdatasync;
  lines.push(`| fdatasync (append 256 B) | 1 | ${fmt(f.opsPerSec, 0)} | ${fmt(f.p50, 3)} | ${fmt(f.p99, 3)} | ${fmt(f.p999, 3)} |`);
  for (const [c, w] of Object.entries(r.floors.wsRtt)) lines.push(`| ws round trip (200 B, 2 processes) | ${c} | ${fmt(w.opsPerSec, 0)} | ${fmt(w.p50, 3)} | ${fmt(w.p99, 3)} | ${fmt(w.p999, 3)} |`);
  return lines.join('\n');
}

function uptimeLine() {
  const [one, five, fifteen] = loadavg();
  return `load average ${one.toFixed(2)}, ${five.toFixed(2)}, ${fifteen.toFixed(2)}`;
}

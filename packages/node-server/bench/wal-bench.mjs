#!/usr/bin/env node
// WAL latency and throughput by sync method, against the fdatasync floor of the same disk.
//
// Methods (WalOptions.syncMethod, and what the node did before failpoints were installed only
// when armed):
//   o-dsync          one positional writev on an O_DSYNC handle: 1 thread-pool job per synced batch
//   fdatasync        write, then fdatasync: 2 jobs
//   fdatasync+hooks  no-op 'wal-mid-record' and 'wal-before-fsync' hooks installed: the batch is
//                    written in two halves, then fdatasynced: 3 jobs
// Cases: `1 entry` (one save, one batch: the latency of a lone synced batch) and `W entries` (W
// saves made in the same tick: one group-committed batch). Floor: a 256-byte append + fdatasync
// (what bench.mjs calls the fdatasync floor). The cases are interleaved operation by operation:
// each round does one floor append and one batch of every case, in an order rotated from round
// to round, each on its own open file, so a slow moment of a shared disk hits all alike. Each run
// reports the median latency of every case and its ratio to the floor's median of the same run;
// the table gives the median over runs.
// Build first (`npm run build`). Usage:
//   node packages/node-server/bench/wal-bench.mjs [--runs 5] [--rounds 200] [--writers 32] [--entry-bytes 100]
//        [--methods o-dsync,fdatasync,fdatasync+hooks] [--dir /path]
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Wal } from '../dist/wal/index.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '200' },
    writers: { type: 'string', default: '32' },
    'entry-bytes': { type: 'string', default: '100' },
    methods: { type: 'string', default: 'o-dsync,fdatasync,fdatasync+hooks' },
    dir: { type: 'string', default: tmpdir() },
  },
});
const runs = Number(values.runs);
const writers = Number(values.writers);
const entryBytes = Number(values['entry-bytes']);
const rounds = Number(values.rounds);
const methods = values.methods.split(',');

const noop = () => {};
const METHOD_OPTIONS = {
  'o-dsync': { syncMethod: 'o-dsync' },
  fdatasync: { syncMethod: 'fdatasync' },
  'fdatasync+hooks': { syncMethod: 'fdatasync', failpoints: { 'wal-mid-record': noop, 'wal-before-fsync': noop } },
};
for (const m of methods)
  if (!(m in METHOD_OPTIONS)) throw new Error(`unknown method ${m}; known: ${Object.keys(METHOD_OPTIONS).join(', ')}`);

const entry = (index) => ({ term: 1, index, type: 'normal', data: new Uint8Array(entryBytes).fill(index & 0xff) });

/** The floor: append 256 bytes + fdatasync. */
async function openFloor(dir) {
  const fh = await open(join(dir, 'floor'), 'w');
  const buf = new Uint8Array(256).fill(7);
  let at = 0;
  return {
    async op() {
      await fh.write(buf, 0, buf.length, at);
      at += buf.length;
      await fh.datasync();
    },
    close: () => fh.close(),
  };
}

/** One batch of `saves` saves of one entry each, made in the same tick (group commit: one batch). */
async function openWalCase(dir, method, saves) {
  const { wal } = await Wal.open(join(dir, `${method}-${saves}`), METHOD_OPTIONS[method]);
  let next = 1;
  return {
    async op() {
      await Promise.all(Array.from({ length: saves }, () => wal.save(null, [entry(next++)])));
    },
    async close() {
      const { batches, saves: done } = wal.stats();
      await wal.close();
      if (done !== batches * saves) throw new Error(`${method}: ${done} saves in ${batches} batches, expected ${saves} per batch`);
    },
  };
}

const cases = [
  { name: 'floor: 256 B append + fdatasync', open: openFloor },
  ...methods.map((m) => ({ name: `1 entry, ${m}`, open: (dir) => openWalCase(dir, m, 1) })),
  ...methods.map((m) => ({ name: `${writers} entries, ${m}`, open: (dir) => openWalCase(dir, m, writers) })),
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One run: `rounds` rounds of one operation per case. Median µs per case. */
async function run() {
  const dir = mkdtempSync(join(values.dir, 'kvapp-wal-bench-'));
  try {
    const opened = [];
    for (const c of cases) opened.push(await c.open(dir));
    const latencies = cases.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < cases.length; k++) {
        const i = (k + r) % cases.length;
        const t0 = process.hrtime.bigint();
        await opened[i].op();
        latencies[i].push(Number(process.hrtime.bigint() - t0) / 1e3);
      }
    }
    for (const o of opened) await o.close();
    return latencies.map(median);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const load = [loadavg()[0]];
const perRun = [];
for (let r = 0; r < runs; r++) perRun.push(await run());
load.push(loadavg()[0]);

const rows = cases.map((c, i) => {
  const ratios = perRun.map((us) => us[i] / us[0]);
  return {
    case: c.name,
    'p50 µs (median of runs)': Math.round(median(perRun.map((us) => us[i]))),
    '× floor p50 (median of runs)': Number(median(ratios).toFixed(2)),
    'per-run ratios': ratios.map((x) => x.toFixed(2)).join(' '),
  };
});
console.log(JSON.stringify({ runs, rounds, entryBytes, writers, dir: values.dir, node: process.version, loadavg1m: load, rows }, null, 2));
console.table(rows);

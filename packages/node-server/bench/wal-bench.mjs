#!/usr/bin/env node
// WAL throughput: one fsync per entry (each save awaited before the next) against group commit
// (many concurrent writers, as a leader's proposals and a follower's appends arrive). Reports the
// median of several runs. Build first: `npm run build`. Usage:
//   node packages/node-server/bench/wal-bench.mjs [--runs 5] [--writers 32] [--entry-bytes 100] [--dir /path]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Wal } from '../dist/wal/index.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    writers: { type: 'string', default: '32' },
    'entry-bytes': { type: 'string', default: '100' },
    'serial-saves': { type: 'string', default: '300' },
    'saves-per-writer': { type: 'string', default: '100' },
    dir: { type: 'string', default: tmpdir() },
  },
});
const runs = Number(values.runs);
const writers = Number(values.writers);
const entryBytes = Number(values['entry-bytes']);
const serialSaves = Number(values['serial-saves']);
const savesPerWriter = Number(values['saves-per-writer']);

const entry = (index) => ({ term: 1, index, type: 'normal', data: new Uint8Array(entryBytes).fill(index & 0xff) });

async function measure(body) {
  const dir = mkdtempSync(join(values.dir, 'kvapp-wal-bench-'));
  try {
    const { wal } = await Wal.open(dir);
    const t0 = process.hrtime.bigint();
    const entries = await body(wal);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const { batches } = wal.stats();
    await wal.close();
    return { entriesPerS: (entries / ms) * 1000, fsyncsPerS: (batches / ms) * 1000, entriesPerFsync: entries / batches, ms };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function serial(wal) {
  for (let i = 1; i <= serialSaves; i++) await wal.save(null, [entry(i)]);
  return serialSaves;
}

async function grouped(wal) {
  // Indexes are assigned in call order, as the Raft log assigns them to proposals.
  let next = 1;
  const writer = async () => {
    for (let k = 0; k < savesPerWriter; k++) await wal.save(null, [entry(next++)]);
  };
  await Promise.all(Array.from({ length: writers }, writer));
  return writers * savesPerWriter;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function scenario(name, body) {
  const results = [];
  for (let r = 0; r < runs; r++) results.push(await measure(body));
  return {
    scenario: name,
    entriesPerS: Math.round(median(results.map((x) => x.entriesPerS))),
    fsyncsPerS: Math.round(median(results.map((x) => x.fsyncsPerS))),
    entriesPerFsync: Number(median(results.map((x) => x.entriesPerFsync)).toFixed(1)),
  };
}

const rows = [
  await scenario('one fsync per entry (serial)', serial),
  await scenario(`group commit (${writers} writers)`, grouped),
];
console.log(JSON.stringify({ runs, entryBytes, dir: values.dir, node: process.version, rows }, null, 2));
console.table(rows);

// Does compressing peer traffic pay? Measures, on this machine, what compressing a 50 MB KV
// snapshot and a 4 KiB value costs with Node's built-in codecs (deflate level 1, brotli quality 1),
// what it saves, and how fast loopback TCP moves the same bytes between two processes. From these
// it prints the link bandwidth below which compression shortens a snapshot install (compress,
// send the smaller bytes, decompress) and the cost per 4 KiB append against the WebSocket round
// trip. Values are random base64 text (about the least compressible a string value gets) or
// JSON records (typical application payloads); both come from a seeded generator.
//
//   node packages/node-server/bench/compression-bench.mjs [--mb 50] [--runs 3] [--seed 1]
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, brotliDecompressSync, constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { encodeKvSnapshot, kvOptionsDefault, seededRng } from '@kvapp/core';
import { TRANSPORT_LIMITS_DEFAULT } from '../dist/transport/index.js';
import { median } from './aggregate.mjs';
import { smallBenchFlags } from './options.mjs';

const VALUE_BYTES = 4096;
const KEY_BYTES = 16;
/** A snapshot crosses the peer link in frames of at most this many bytes (transport/chunking.ts). */
const CHUNK_BYTES = TRANSPORT_LIMITS_DEFAULT.frameBytesMax;

const CODECS = {
  'deflate-1': {
    compress: (b) => deflateRawSync(b, { level: 1 }),
    decompress: (b) => inflateRawSync(b),
  },
  'brotli-1': {
    compress: (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } }),
    decompress: (b) => brotliDecompressSync(b),
  },
};

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const WORDS = ['alpha', 'delta', 'orders', 'pending', 'shipped', 'berlin', 'lisbon', 'premium', 'basic', 'retry', 'null', 'true'];

function randomText(next, bytes) {
  let s = '';
  for (let i = 0; i < bytes; i++) s += BASE64[Math.floor(next() * 64)];
  return s;
}

function jsonRecords(next, bytes) {
  const parts = [];
  let length = 2;
  while (length < bytes) {
    const record = JSON.stringify({
      id: Math.floor(next() * 1e9),
      status: WORDS[Math.floor(next() * WORDS.length)],
      city: WORDS[Math.floor(next() * WORDS.length)],
      amount: Math.round(next() * 100000) / 100,
      tags: [WORDS[Math.floor(next() * WORDS.length)], WORDS[Math.floor(next() * WORDS.length)]],
      updatedMs: 1_700_000_000_000 + Math.floor(next() * 1e10),
    });
    parts.push(record);
    length += record.length + 1;
  }
  return `[${parts.join(',')}]`.slice(0, bytes);
}

function snapshotOf(kind, megabytes, seed) {
  // The project's one seeded generator: the printed seed gives the same values everywhere.
  const next = seededRng(seed).next;
  const count = Math.ceil((megabytes * 1e6) / (VALUE_BYTES + KEY_BYTES));
  const data = [];
  for (let i = 0; i < count; i++) {
    const key = `k${String(i).padStart(KEY_BYTES - 1, '0')}`;
    data.push([key, kind === 'random' ? randomText(next, VALUE_BYTES) : jsonRecords(next, VALUE_BYTES)]);
  }
  const bytes = encodeKvSnapshot({ appliedIndex: count, clockMs: 0, options: kvOptionsDefault, data, sessions: [], members: [] });
  return { bytes, oneValue: Buffer.from(data[0][1]) };
}

function timeMs(fn) {
  const s = performance.now();
  const out = fn();
  return { ms: performance.now() - s, out };
}

/** Compresses in chunks, as the peer link would carry them. */
function chunked(fn, bytes) {
  const out = [];
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) out.push(fn(bytes.subarray(at, at + CHUNK_BYTES)));
  return out;
}

/** MB/s of loopback TCP from this process to a child that reads everything and answers once. */
async function loopbackMbPerSec(bytes) {
  const sink = fork(fileURLToPath(import.meta.url), ['--sink'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const [{ port }] = await once(sink, 'message');
    const socket = createConnection({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    const done = once(socket, 'data');
    const s = performance.now();
    const header = Buffer.alloc(8);
    header.writeBigUInt64LE(BigInt(bytes.length));
    socket.write(header);
    for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
      if (!socket.write(bytes.subarray(at, at + CHUNK_BYTES))) await once(socket, 'drain');
    }
    await done;
    const ms = performance.now() - s;
    socket.destroy();
    return bytes.length / 1e6 / (ms / 1000);
  } finally {
    sink.kill('SIGKILL');
  }
}

function runSink() {
  const server = createServer((socket) => {
    // The first 8 bytes say how many follow; they may arrive split over reads like any others.
    let received = 0;
    let header = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      received += chunk.length;
      if (header.length < 8) header = Buffer.concat([header, chunk.subarray(0, 8 - header.length)]);
      if (header.length === 8 && received - 8 >= Number(header.readBigUInt64LE(0))) socket.write('k');
    });
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
}

async function main() {
  const values = smallBenchFlags(
    'compression-bench',
    { mb: { type: 'string', default: '50' }, runs: { type: 'string', default: '3' }, seed: { type: 'string', default: '1' } },
    (v) => {
      const [mb, runs, seed] = [Number(v.mb), Number(v.runs), Number(v.seed)];
      if (!(mb > 0 && mb <= 1000)) return '--mb in (0, 1000]';
      if (!(Number.isInteger(runs) && runs >= 1 && runs <= 20)) return '--runs 1..20';
      return Number.isInteger(seed) ? null : '--seed an integer';
    },
  );
  const mb = Number(values.mb);
  const runs = Number(values.runs);
  const seed = Number(values.seed);
  console.log(`# compression bench: ${mb} MB snapshots of ${VALUE_BYTES} B values, ${runs} runs, seed ${seed}, chunks of ${CHUNK_BYTES} B`);
  const rows = [];
  for (const kind of ['random', 'records']) {
    const { bytes, oneValue } = snapshotOf(kind, mb, seed);
    const loopbackRuns = [];
    for (let i = 0; i < runs; i++) loopbackRuns.push(await loopbackMbPerSec(bytes));
    const loopback = median(loopbackRuns);
    for (const [name, codec] of Object.entries(CODECS)) {
      const compressMs = [];
      const decompressMs = [];
      let compressedBytes = 0;
      for (let i = 0; i < runs; i++) {
        const c = timeMs(() => chunked(codec.compress, bytes));
        compressMs.push(c.ms);
        compressedBytes = c.out.reduce((n, b) => n + b.length, 0);
        decompressMs.push(timeMs(() => c.out.map((b) => codec.decompress(b))).ms);
      }
      const valueUs = [];
      let valueCompressed = 0;
      for (let i = 0; i < 2000; i++) {
        const c = timeMs(() => codec.compress(oneValue));
        const d = timeMs(() => codec.decompress(c.out));
        valueUs.push((c.ms + d.ms) * 1000);
        valueCompressed = c.out.length;
      }
      const tc = median(compressMs) / 1000;
      const td = median(decompressMs) / 1000;
      const savedMb = (bytes.length - compressedBytes) / 1e6;
      rows.push({
        kind,
        codec: name,
        snapshotMb: bytes.length / 1e6,
        ratio: bytes.length / compressedBytes,
        compressMbPerSec: bytes.length / 1e6 / tc,
        decompressMbPerSec: bytes.length / 1e6 / td,
        loopbackMbPerSec: loopback,
        breakEvenMbPerSec: savedMb > 0 ? savedMb / (tc + td) : 0,
        valueRatio: oneValue.length / valueCompressed,
        valueUs: median(valueUs),
      });
    }
  }
  console.log('');
  console.log(
    '| values | codec | snapshot MB | ratio | compress MB/s | decompress MB/s | loopback TCP MB/s | pays below MB/s | 4 KiB value: ratio | µs to compress + decompress |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.kind} | ${r.codec} | ${r.snapshotMb.toFixed(1)} | ${r.ratio.toFixed(2)} | ${r.compressMbPerSec.toFixed(0)} | ${r.decompressMbPerSec.toFixed(0)} | ${r.loopbackMbPerSec.toFixed(0)} | ${r.breakEvenMbPerSec.toFixed(0)} | ${r.valueRatio.toFixed(2)} | ${r.valueUs.toFixed(0)} |`,
    );
  }
  console.log('');
  console.log(
    '"pays below": a snapshot install is shorter compressed only on links slower than this (bytes saved / (compress + decompress time)).',
  );
}

if (process.argv.includes('--sink')) runSink();
else await main();

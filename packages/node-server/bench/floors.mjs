// The machine's floors, measured in the same run as the figures they are read against: what a
// durable write can cost at least (one fdatasync of a small append on the disk that holds the
// data, alone and two at once as a leader and a follower do them), and what a request can cost at
// least (one WebSocket round trip on loopback between two processes).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { percentiles } from './aggregate.mjs';

const ECHO_SERVER = fileURLToPath(new URL('./ws-echo-server.mjs', import.meta.url));
/** The size of a put request on kvapp's client port, roughly. */
const WS_MESSAGE_BYTES = 200;
/** Bounds each floor by count as well as time, whatever the clock does. */
const SAMPLES_MAX = 100_000;

/** Appends 256 bytes and fdatasyncs, one after the other, for `seconds`. */
export function fsyncFloor(dir, seconds) {
  return appendFloor(dir, seconds, 1, 'fdatasync');
}

/**
 * Two files, each appended 256 bytes and fdatasynced at the same moment, for `seconds`: what a
 * leader's and a follower's fsync of one entry take together when, as here, the nodes share a
 * disk. A sample ends when both are durable.
 */
export function fsyncPairFloor(dir, seconds) {
  return appendFloor(dir, seconds, 2, 'fdatasyncPair');
}

/** `files` files appended 256 bytes and fdatasynced at once, round after round; a sample ends when all are durable. */
async function appendFloor(dir, seconds, files, name) {
  const paths = Array.from({ length: files }, (_, i) => join(dir, `${name}-${i}.tmp`));
  const handles = await Promise.all(paths.map((path) => open(path, 'a')));
  const block = Buffer.alloc(256, 0x61);
  const appendDurably = async (handle) => {
    await handle.write(block);
    await handle.datasync();
  };
  const latencies = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  try {
    while (performance.now() < end && latencies.length < SAMPLES_MAX) {
      const s = performance.now();
      await Promise.all(handles.map(appendDurably));
      latencies.push(performance.now() - s);
    }
  } finally {
    await Promise.all(handles.map((handle) => handle.close()));
    await Promise.all(paths.map((path) => rm(path, { force: true })));
  }
  return { name, opsPerSec: latencies.length / ((performance.now() - t0) / 1000), ...percentiles(latencies) };
}

/** One message in flight over one connection to an echo server in another process, for `seconds` after `warmupSeconds`. */
export async function wsRttFloor(seconds, warmupSeconds) {
  const server = fork(ECHO_SERVER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, NODE_OPTIONS: '' } });
  try {
    const [{ port }] = await once(server, 'message');
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
    await once(ws, 'open');
    const message = 'x'.repeat(WS_MESSAGE_BYTES);
    // A round trip waits for the echo, or fails when the connection closes: never forever.
    let pending = null;
    ws.on('message', () => pending?.resolve());
    ws.on('close', () => pending?.reject(new Error('the echo server closed the connection')));
    const roundTrip = () =>
      new Promise((resolve, reject) => {
        pending = { resolve, reject };
        ws.send(message);
      });
    const warmEnd = performance.now() + warmupSeconds * 1000;
    for (let i = 0; i < SAMPLES_MAX && performance.now() < warmEnd; i++) await roundTrip();
    const latencies = [];
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    while (performance.now() < end && latencies.length < SAMPLES_MAX) {
      const s = performance.now();
      await roundTrip();
      latencies.push(performance.now() - s);
    }
    const elapsedS = (performance.now() - t0) / 1000;
    ws.close();
    return { name: 'wsRtt', opsPerSec: latencies.length / elapsedS, ...percentiles(latencies) };
  } finally {
    server.kill('SIGKILL');
  }
}

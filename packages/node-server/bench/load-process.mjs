// One load process: a child of the bench that keeps its share of the requests in flight through
// one driver (kvapp, etcd-grpc or etcd-http), closed loop (each slot sends its next request when
// the last one is answered). The bench steers it over IPC, so that the measured window is the
// same for every load process and for the server CPU it reads:
//   open → opened, preload → preloaded, start → started (every slot answered once),
//   mark (the window opens), stop → result (latencies of the window, errors, own CPU),
//   close → closed.
import { performance } from 'node:perf_hooks';
import { keyAt, makeValue } from './keyspace.mjs';

const DRIVERS = {
  kvapp: () => import('./drivers/kvapp.mjs'),
  'etcd-grpc': () => import('./drivers/etcd-grpc.mjs'),
  'etcd-http': () => import('./drivers/etcd-http.mjs'),
};

/** A slot that just failed waits this long before its next request, so a dead cluster is not spun on. */
const ERROR_PAUSE_MS = 10;
/** A preload write that fails is tried again up to this many times in all (a leader may change meanwhile). */
const PRELOAD_ATTEMPTS_MAX = 5;
/** After `stop`, requests still in flight get this long to end before the result is sent without them. */
const DRAIN_MS_MAX = 15_000;

let conn = null;
let shape = null;
let value = '';
let running = false;
let loops = [];
let window = null;

const send = (message) => process.send(message);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function operation(workload) {
  const { keys, keyBytes } = shape;
  const key = () => keyAt(Math.floor(Math.random() * keys), keyBytes);
  switch (workload) {
    case 'put':
      return (slot) => conn.put(slot, key(), value);
    case 'get-lin':
      return (slot) => conn.get(slot, key(), false);
    case 'get-ser':
      return (slot) => conn.get(slot, key(), true);
    default:
      throw new Error(`unknown workload ${workload}`);
  }
}

async function loop(slot, op) {
  while (running) {
    const t0 = performance.now();
    let failed = null;
    try {
      await op(slot);
    } catch (error) {
      failed = error;
    }
    const w = window;
    if (w === null) {
      if (failed) await sleep(ERROR_PAUSE_MS);
      continue;
    }
    if (failed) {
      w.errors++;
      w.lastError = String(failed.message ?? failed);
      await sleep(ERROR_PAUSE_MS);
    } else {
      w.latencies.push(performance.now() - t0);
    }
  }
}

async function preload(from, to) {
  let next = from;
  const writer = async (slot) => {
    while (next < to) {
      const key = keyAt(next++, shape.keyBytes);
      for (let attempt = 1; ; attempt++) {
        try {
          await conn.put(slot, key, value);
          break;
        } catch (error) {
          if (attempt === PRELOAD_ATTEMPTS_MAX)
            throw new Error(`preload of ${key} failed ${attempt} times, last: ${error.message}`, { cause: error });
          await sleep(ERROR_PAUSE_MS * attempt);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: shape.slots }, (_, slot) => writer(slot)));
  return to - from;
}

async function handle(message) {
  switch (message.type) {
    case 'open': {
      shape = message;
      value = makeValue(message.valueBytes);
      const driver = await DRIVERS[message.driver]();
      conn = await driver.open({ endpoints: message.endpoints, target: message.target, slots: message.slots });
      return { type: 'opened' };
    }
    case 'preload':
      return { type: 'preloaded', count: await preload(message.from, message.to) };
    case 'start': {
      const op = operation(message.workload);
      // Every slot's connection (and, for kvapp's puts, its session) is set up before the warm-up.
      await Promise.all(Array.from({ length: shape.slots }, (_, slot) => op(slot)));
      running = true;
      loops = Array.from({ length: shape.slots }, (_, slot) => loop(slot, op));
      return { type: 'started' };
    }
    case 'mark':
      window = { t0: performance.now(), cpu0: process.cpuUsage(), latencies: [], errors: 0, lastError: null };
      return null;
    case 'stop': {
      const w = window;
      window = null;
      running = false;
      if (w === null) throw new Error('stop before mark');
      const elapsedMs = performance.now() - w.t0;
      const cpu = process.cpuUsage(w.cpu0);
      let drainTimer;
      const drained = await Promise.race([
        Promise.all(loops).then(() => true),
        new Promise((resolve) => (drainTimer = setTimeout(() => resolve(false), DRAIN_MS_MAX))),
      ]);
      clearTimeout(drainTimer);
      loops = [];
      return {
        type: 'result',
        elapsedMs,
        latencies: Float64Array.from(w.latencies),
        errors: w.errors,
        lastError: w.lastError,
        cpuCores: (cpu.user + cpu.system) / 1000 / elapsedMs,
        drained,
      };
    }
    case 'close':
      await conn?.close();
      conn = null;
      return { type: 'closed' };
    default:
      throw new Error(`unknown message ${message.type}`);
  }
}

process.on('message', (message) => {
  handle(message).then(
    (reply) => reply && send(reply),
    (error) => send({ type: 'error', message: String(error?.message ?? error) }),
  );
});
// The bench went away (or closed the channel): nothing is left to measure for.
process.on('disconnect', () => process.exit(0));

// The bench's side of its load processes: forks them once, splits the requests in flight among
// them, and steps them together through open / start / mark / stop / close (see
// load-process.mjs). Every wait for an answer is bounded, and a load process that dies fails
// the bench at once instead of hanging it.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const LOAD_PROCESS = fileURLToPath(new URL('./load-process.mjs', import.meta.url));
/** The longest any one step may take (a preload of 10,000 keys on a slow machine is the longest). */
const STEP_MS_MAX = 180_000;

/** `total` requests in flight over `procs` processes, as evenly as possible (the first ones get the remainder). */
export function splitInFlight(total, procs) {
  return Array.from({ length: procs }, (_, i) => Math.floor(total / procs) + (i < total % procs ? 1 : 0));
}

class LoadProcess {
  constructor(index) {
    this.index = index;
    this.inbox = [];
    this.waiting = null;
    this.exited = null;
    // 'advanced' serialization: the latencies come back as one Float64Array, not a JSON array.
    this.child = fork(LOAD_PROCESS, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    this.child.on('message', (message) => this.deliver(message));
    this.child.on('exit', (code, signal) => {
      this.exited = `load process ${index} exited (${code ?? signal})`;
      this.deliver({ type: 'error', message: this.exited });
    });
  }

  deliver(message) {
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve(message);
    } else this.inbox.push(message);
  }

  send(message) {
    if (this.exited) throw new Error(this.exited);
    this.child.send(message);
  }

  /** Sends `message` and waits for the answer of type `replyType`. */
  async ask(message, replyType) {
    this.send(message);
    const next = this.inbox.length > 0 ? Promise.resolve(this.inbox.shift()) : new Promise((resolve) => (this.waiting = resolve));
    let timer;
    const timeout = new Promise(
      (_, reject) =>
        (timer = setTimeout(
          () => reject(new Error(`load process ${this.index}: no '${replyType}' within ${STEP_MS_MAX / 1000} s`)),
          STEP_MS_MAX,
        )),
    );
    try {
      const reply = await Promise.race([next, timeout]);
      if (reply.type !== replyType) throw new Error(`load process ${this.index}: ${reply.message ?? JSON.stringify(reply)}`);
      return reply;
    } finally {
      clearTimeout(timer);
    }
  }

  kill() {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

/** `procs` load processes, idle until `open`. */
export function startLoadFleet(procs) {
  const all = Array.from({ length: procs }, (_, i) => new LoadProcess(i));
  let active = [];
  return {
    /**
     * Opens connections for `inFlight` requests in all, split among the processes; those whose
     * share is 0 sit this case out. `shape`: { driver, endpoints, target, keys, keyBytes, valueBytes }.
     */
    async open(inFlight, shape) {
      const shares = splitInFlight(inFlight, all.length);
      active = all.filter((_, i) => shares[i] > 0);
      await Promise.all(active.map((p) => p.ask({ type: 'open', ...shape, slots: shares[p.index] }, 'opened')));
    },
    /** Writes keys 0..keys-1 once, each process its own contiguous part. */
    async preload(keys) {
      const parts = splitInFlight(keys, active.length);
      let from = 0;
      const ranges = parts.map((n) => [from, (from += n)]);
      await Promise.all(active.map((p, i) => p.ask({ type: 'preload', from: ranges[i][0], to: ranges[i][1] }, 'preloaded')));
    },
    async start(workload) {
      await Promise.all(active.map((p) => p.ask({ type: 'start', workload }, 'started')));
    },
    mark() {
      for (const p of active) p.send({ type: 'mark' });
    },
    /** Ends the window: one result per active process (latencies, errors, elapsedMs, cpuCores). */
    async stop() {
      return Promise.all(active.map((p) => p.ask({ type: 'stop' }, 'result')));
    },
    async close() {
      await Promise.all(active.map((p) => p.ask({ type: 'close' }, 'closed')));
      active = [];
    },
    kill() {
      for (const p of all) p.kill();
    },
  };
}

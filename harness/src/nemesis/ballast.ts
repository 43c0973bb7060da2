import { KvClient } from '@kvapp/client';

/**
 * Ballast: large values on keys of their own, written with @kvapp/client so that the state machine
 * (and so every snapshot) grows past a size. The keys are outside the checked workload (its keys are
 * k0, k1, ...; workload.ts keyName): nothing records them in the history, and the final reads never
 * read them.
 */

/** The prefix of every ballast key; no workload key starts with it. */
export const ballastKeyPrefix = 'ballast-';

export function ballastKey(i: number): string {
  return `${ballastKeyPrefix}${String(i).padStart(4, '0')}`;
}

/** How many values of `valueBytes` make at least `totalBytes`. */
export function ballastKeyCount(totalBytes: number, valueBytes: number): number {
  if (!(Number.isSafeInteger(totalBytes) && totalBytes > 0)) throw new Error(`ballast bytes must be a positive integer, got ${totalBytes}`);
  if (!(Number.isSafeInteger(valueBytes) && valueBytes > 0))
    throw new Error(`ballast value bytes must be a positive integer, got ${valueBytes}`);
  return Math.ceil(totalBytes / valueBytes);
}

/** Key i's value: exactly `valueBytes` ASCII bytes, its key first so that no two values are equal. */
export function ballastValue(i: number, valueBytes: number, fill: string): string {
  if (!/^[\x21-\x7e]$/.test(fill)) throw new Error(`ballast fill must be one printable ASCII character, got ${JSON.stringify(fill)}`);
  const head = `${ballastKey(i)}:`;
  return (head + fill.repeat(Math.max(0, valueBytes - head.length))).slice(0, valueBytes);
}

export interface BallastOptions {
  readonly totalBytes: number;
  /** Each value's bytes; at most the nodes' valueBytesMax (64 KiB by default). */
  readonly valueBytes: number;
  /** The character values are filled with (drawn from the run's PRNG by the caller). */
  readonly fill: string;
  /** The whole ballast must be written within this, or write() throws. */
  readonly msMax: number;
  readonly signal: AbortSignal;
}

export interface BallastWritten {
  readonly keys: number;
  readonly bytes: number;
  readonly ms: number;
  /** Puts that did not end ok and were tried again. */
  readonly retries: number;
}

/** The key each writer nudges (a small value, overwritten); a ballast key, so outside the workload. */
export function nudgeKey(writer: number): string {
  return `${ballastKeyPrefix}nudge-${writer}`;
}

/**
 * A few KvClients that write ballast, each its keys one after another (a client runs one write at a
 * time). Close it when done.
 */
export class BallastWriter {
  private readonly clients: KvClient[];
  private nudges = 0;

  constructor(endpoints: readonly string[], writers: number, opDeadlineMs = 3000) {
    if (!(Number.isInteger(writers) && writers >= 1)) throw new Error(`ballast writers must be a positive integer, got ${writers}`);
    this.clients = Array.from({ length: writers }, () => new KvClient({ endpoints, opDeadlineMs, attemptMsMax: 1500, sessions: true }));
  }

  /**
   * Writes every ballast key once (overwriting what a previous fault wrote). Throws, naming how far
   * it got, when msMax passes first or the run is aborted.
   */
  async write(o: BallastOptions): Promise<BallastWritten> {
    const keys = ballastKeyCount(o.totalBytes, o.valueBytes);
    const started = performance.now();
    const deadline = started + o.msMax;
    let written = 0;
    let retries = 0;
    let lastProblem = '';
    const writer = async (client: KvClient, w: number): Promise<void> => {
      for (let i = w; i < keys; i += this.clients.length) {
        for (;;) {
          if (o.signal.aborted) throw new Error('ballast: aborted');
          if (performance.now() >= deadline) {
            throw new Error(
              `ballast: ${written} of ${keys} values of ${o.valueBytes} bytes written within ${o.msMax} ms${lastProblem ? ` (last problem: ${lastProblem})` : ''}`,
            );
          }
          const outcome = await client.put(ballastKey(i), ballastValue(i, o.valueBytes, o.fill));
          if (outcome.status === 'ok') break;
          retries += 1;
          lastProblem = outcome.status === 'fail' ? `${outcome.error.code}: ${outcome.error.message}` : outcome.reason;
        }
        written += 1;
      }
    };
    await Promise.all(this.clients.map((c, w) => writer(c, w)));
    return { keys, bytes: keys * o.valueBytes, ms: Math.round(performance.now() - started), retries };
  }

  /**
   * About `puts` small writes, spread over the clients, to move the log on (and so bring the next
   * snapshot); their outcomes do not matter: the caller waits for what it needs, bounded.
   */
  async nudge(puts: number): Promise<void> {
    const each = Math.max(1, Math.ceil(puts / this.clients.length));
    await Promise.all(
      this.clients.map(async (c, w) => {
        for (let i = 0; i < each; i++) await c.put(nudgeKey(w), String(++this.nudges));
      }),
    );
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}

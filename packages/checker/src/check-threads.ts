import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { KeyDecision } from './check-key.js';
import type { OpTable } from './op-table.js';

/** What a worker is asked to decide: its keys' rows as a table of their own (a structured clone of arrays). */
export interface WorkerJob {
  readonly table: OpTable;
  readonly reduce: boolean;
  readonly deadlineMs?: number;
  readonly firstPassStepsMax?: number;
  readonly searchStepsMax?: number;
}

const workerUrl = new URL('./check-worker.js', import.meta.url);

/**
 * Worker threads that decide shares of a history's keys. A thread takes ~50 ms to start, about
 * what a small history takes to check: the CLI starts them before it reads a large file, so they
 * are ready when the check wants them (checkHistory starts its own otherwise). Each thread takes
 * one job; `close` ends them all (the check always calls it).
 */
export class CheckThreads {
  private readonly workers: Worker[];
  private used = 0;

  private constructor(count: number) {
    this.workers = Array.from({ length: count }, () => new Worker(workerUrl));
  }

  /** Undefined when the worker script is not there (running from src/ under a TypeScript loader). */
  static start(count: number): CheckThreads | undefined {
    if (count < 1 || !existsSync(fileURLToPath(workerUrl))) return undefined;
    return new CheckThreads(count);
  }

  get size(): number {
    return this.workers.length;
  }

  /** Sends the job to the next unused thread; resolves with its decisions. */
  run(job: WorkerJob): Promise<KeyDecision[]> {
    const worker = this.workers[this.used++];
    if (worker === undefined) return Promise.reject(new Error('CheckThreads: every thread already has a job'));
    return new Promise((resolve, reject) => {
      worker.once('message', (decisions: KeyDecision[]) => resolve(decisions));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`check worker exited with code ${code} before it answered`)));
      worker.postMessage(job);
    });
  }

  close(): void {
    for (const w of this.workers) {
      w.removeAllListeners('exit');
      void w.terminate();
    }
  }
}

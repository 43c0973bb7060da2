import { parentPort, workerData } from 'node:worker_threads';
import { checkKey } from './check-key.js';
import type { Operation } from './history.js';

interface Job {
  readonly keys: [string, Operation[]][];
  readonly reduce: boolean;
  readonly deadlineMs?: number;
}

const job = workerData as Job;
const options = { reduce: job.reduce, ...(job.deadlineMs !== undefined ? { deadlineMs: job.deadlineMs } : {}) };
parentPort!.postMessage(job.keys.map(([key, ops]) => checkKey(key, ops, options)));

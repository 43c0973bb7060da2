import { parentPort, workerData } from 'node:worker_threads';
import { checkKey } from './check-key.js';
import type { Operation } from './history.js';

interface Job {
  readonly keysJson: string;
  readonly reduce: boolean;
  readonly deadlineMs?: number;
}

const job = workerData as Job;
const keys = JSON.parse(job.keysJson, (k, v: unknown) => (k === 'ret' && v === null ? Infinity : v)) as [string, Operation[]][];
const options = { reduce: job.reduce, ...(job.deadlineMs !== undefined ? { deadlineMs: job.deadlineMs } : {}) };
parentPort!.postMessage(keys.map(([key, ops]) => ({ ...checkKey(key, ops, options), worker: true })));

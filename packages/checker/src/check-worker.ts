import { parentPort, workerData } from 'node:worker_threads';
import { decideKey } from './check-key.js';
import type { WorkerJob } from './check.js';
import { rowsByKey } from './op-table.js';

// Decisions only: the witness is written by the thread that has the operations.
const job = workerData as WorkerJob;
const options = { reduce: job.reduce, ...(job.deadlineMs !== undefined ? { deadlineMs: job.deadlineMs } : {}) };
const keyRows = rowsByKey(job.table);
parentPort!.postMessage(keyRows.map((rows, k) => ({ ...decideKey(job.table.keys[k]!, job.table, rows, options), worker: true })));

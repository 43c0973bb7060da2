import { parentPort } from 'node:worker_threads';
import { decideKey } from './check-key.js';
import type { WorkerJob } from './check-threads.js';
import { rowsByKey } from './op-table.js';

// One job per thread (see check-threads.ts). Decisions only: the witness is written by the thread
// that has the operations.
parentPort!.once('message', (job: WorkerJob) => {
  const keyRows = rowsByKey(job.table);
  parentPort!.postMessage(keyRows.map((rows, k) => ({ ...decideKey(job.table.keys[k]!, job.table, rows, job), worker: true })));
});

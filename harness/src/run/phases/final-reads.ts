import { KvClient } from '@kvapp/client';
import { keyName } from '../../workload/workload.js';
import type { KvCluster } from '../kv-cluster.js';
import type { RunContext } from '../run-context.js';

const finalReadDeadlineMs = 3000;
const finalReadAttemptsMax = 4;

function newClient(endpoints: string[]): KvClient {
  return new KvClient({ endpoints, opDeadlineMs: finalReadDeadlineMs, attemptMsMax: 1000, sessions: true });
}

/**
 * Phase `final-reads`: a fresh process reads every key linearizably (up to finalReadAttemptsMax
 * attempts each), recorded in the history like any operation; an indeterminate attempt retires the
 * process. The acked-writes check compares these reads with the acknowledged writes.
 */
export async function finalReads(run: RunContext, cluster: KvCluster): Promise<void> {
  run.progress.setPhase('final-reads');
  const { recorder } = run;
  let proc = recorder.newProcess();
  run.finalProcesses.add(proc);
  const endpoints = cluster.clientEndpoints();
  let client = newClient(endpoints);
  try {
    for (let k = 0; k < run.spec.workload.keys; k++) {
      const key = keyName(k);
      for (let attempt = 0; attempt < finalReadAttemptsMax; attempt++) {
        run.throwIfAborted();
        run.progress.countFinalRead();
        await recorder.invoke(proc, 'read', key);
        const outcome = await client.get(key);
        if (outcome.status === 'ok') {
          run.progress.countFinalReadOk();
          await recorder.ok(proc, outcome.value ?? null);
          break;
        }
        if (outcome.status === 'fail') {
          await recorder.fail(proc, outcome.error.code);
        } else {
          proc = await recorder.info(proc, outcome.reason.slice(0, 200));
          run.finalProcesses.add(proc);
          client.close();
          client = newClient(endpoints);
        }
        await run.sleep(200);
      }
    }
  } finally {
    client.close();
  }
}

import type { KvCluster } from '../kv-cluster.js';
import type { RunContext } from '../run-context.js';

/** Polls every 200 ms until every node is healthy under one leader; false after `msMax`. */
export async function waitHealthy(run: RunContext, cluster: KvCluster, msMax: number): Promise<boolean> {
  const deadline = Date.now() + msMax;
  while (Date.now() < deadline) {
    run.throwIfAborted();
    if (await cluster.healthy()) return true;
    await run.sleep(200);
  }
  return false;
}

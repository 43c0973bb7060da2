import type { KvCluster } from '../kv-cluster.js';
import type { RunContext } from '../run-context.js';
import { waitHealthy } from './wait-healthy.js';

const healHealthyMsMax = 20_000;
/** After every node reports healthy, a little more quiet before the final reads. */
const quietMs = 500;

/** Phase `heal`: every link passes, every node runs clean and healthy, then a moment of quiet. */
export async function heal(run: RunContext, cluster: KvCluster): Promise<void> {
  run.progress.setPhase('heal');
  await cluster.healAll();
  if (!(await waitHealthy(run, cluster, healHealthyMsMax)))
    throw new Error(`cluster not healthy within ${healHealthyMsMax} ms of the heal`);
  await run.sleep(quietMs);
}

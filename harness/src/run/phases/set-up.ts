import { KvCluster } from '../kv-cluster.js';
import type { RunContext } from '../run-context.js';
import { waitHealthy } from './wait-healthy.js';

const setupHealthyMsMax = 30_000;

/** Phase `setup`: the nodes behind their proxies, started and healthy under one leader. */
export async function setUp(run: RunContext): Promise<KvCluster> {
  run.progress.setPhase('setup');
  const { spec } = run;
  const cluster = await KvCluster.start({
    runDir: run.dir,
    nodes: run.nodes,
    ...(spec.nodeArgs === undefined ? {} : { nodeArgs: spec.nodeArgs }),
    ...(spec.nodeEnv === undefined ? {} : { nodeEnv: spec.nodeEnv }),
  });
  run.cluster = cluster;
  if (!(await waitHealthy(run, cluster, setupHealthyMsMax))) throw new Error(`cluster not healthy within ${setupHealthyMsMax} ms of start`);
  return cluster;
}

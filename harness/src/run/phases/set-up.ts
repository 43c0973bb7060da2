import { nemeses } from '../../nemesis/registry.js';
import { KvCluster } from '../kv-cluster.js';
import type { RunContext } from '../run-context.js';
import { waitHealthy } from './wait-healthy.js';

const setupHealthyMsMax = 30_000;

/** Phase `setup`: the nodes behind their proxies, started (with the nemesis' node flags) and healthy under one leader. */
export async function setUp(run: RunContext): Promise<KvCluster> {
  run.progress.setPhase('setup');
  const { spec } = run;
  // The nemesis' own flags first (e.g. a low --snapshot-entries), then the scenario's.
  const nodeArgs = [...(nemeses[spec.nemesis].nodeArgs ?? []), ...(spec.nodeArgs ?? [])];
  const nodeEnvFor = nemeses[spec.nemesis].nodeEnv;
  const cluster = await KvCluster.start({
    runDir: run.dir,
    nodes: run.nodes,
    ...(nodeArgs.length === 0 ? {} : { nodeArgs }),
    ...(spec.nodeEnv === undefined ? {} : { nodeEnv: spec.nodeEnv }),
    ...(nodeEnvFor === undefined ? {} : { nodeEnvFor }),
  });
  run.cluster = cluster;
  run.rss.start(() => cluster.nodePids());
  if (!(await waitHealthy(run, cluster, setupHealthyMsMax))) throw new Error(`cluster not healthy within ${setupHealthyMsMax} ms of start`);
  return cluster;
}

import type { KvCluster } from '../run/kv-cluster.js';
import type { Fault } from './module.js';
import { cutLinkNames } from './partitions.js';
import type { Partition } from './partitions.js';

/** A partition's shape as nemesis.jsonl shows it: the cut as link names ("1->2"). */
function describe(p: Partition): Record<string, unknown> {
  const { cut, ...shape } = p;
  return { ...shape, cut: cutLinkNames(cut) };
}

/** Blackholes the partition's cut links; heal lets them pass again. Shared by every partition nemesis. */
export function cutOff(cluster: KvCluster, p: Partition, extra: Record<string, unknown> = {}): Fault {
  const names = cutLinkNames(p.cut);
  cluster.proxies.setModes(names, { kind: 'blackhole' });
  return {
    detail: { ...describe(p), ...extra },
    heal: async () => {
      cluster.proxies.setModes(names, { kind: 'pass' });
      return {};
    },
  };
}

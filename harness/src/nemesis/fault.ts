import { setTimeout as sleep } from 'node:timers/promises';
import type { NemesisKind } from '../run/types.js';
import type { KvCluster } from '../run/kv-cluster.js';
import type { Workload } from '../workload/workload.js';
import { bridge, cutLinkNames, isolateNode, majoritiesRing, oneWay, randomHalves } from './partitions.js';
import type { Partition, Random } from './partitions.js';

/** One fault in force: what it is (for nemesis.jsonl), and how to undo it. */
export interface ActiveFault {
  readonly name: string;
  readonly detail: Record<string, unknown>;
  /** Undoes the fault; may add to `detail` what happened meanwhile (e.g. crashes). */
  heal(): Promise<Record<string, unknown>>;
}

export interface FaultContext {
  readonly cluster: KvCluster;
  readonly workload: Workload;
  readonly random: Random;
  readonly signal: AbortSignal;
}

/** The kinds `mix` draws from. */
export const mixKinds: readonly NemesisKind[] = [
  'partition-halves', 'partition-isolate-leader', 'partition-majorities-ring', 'partition-bridge',
  'partition-one-way', 'kill', 'pause', 'delay', 'failpoint-crash',
];

/** Failpoints that crash a node at an exact point under load (packages/node-server failpoints). */
export const failpointSpecs: readonly string[] = [
  'wal-before-fsync=crash@20%',
  'wal-after-fsync=crash@20%',
  'wal-mid-record=crash@20%',
  'before-apply=crash@5%',
];

/** Share of the clients whose reads are pinned to an isolated old leader. */
const pinnedShare = 0.5;
/** How often a failpoint-armed node is checked for a crash (and restarted armed). */
const crashPollMs = 200;

function pick<T>(items: readonly T[], random: Random): T {
  return items[Math.floor(random() * items.length)]!;
}

function describe(p: Partition): Record<string, unknown> {
  const { cut, ...shape } = p;
  return { ...shape, cut: cutLinkNames(cut) };
}

/** Nodes that may be taken down together while a majority stays: 1 of 3, 1–2 of 5. */
function minority(ids: readonly string[], random: Random): string[] {
  const max = Math.max(1, Math.floor((ids.length - 1) / 2));
  const count = 1 + Math.floor(random() * max);
  const order = [...ids];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, count).sort();
}

/** Starts one fault of `kind` (`mix` picks a kind). */
export async function startFault(kind: Exclude<NemesisKind, 'none'>, ctx: FaultContext): Promise<ActiveFault> {
  const { cluster, random } = ctx;
  const ids = cluster.ids;
  const chosen = kind === 'mix' ? pick(mixKinds, random) : kind;
  const partition = (p: Partition, extra: Record<string, unknown> = {}): ActiveFault => {
    const names = cutLinkNames(p.cut);
    cluster.proxies.setModes(names, { kind: 'blackhole' });
    return {
      name: chosen,
      detail: { ...describe(p), ...extra },
      heal: async () => {
        cluster.proxies.setModes(names, { kind: 'pass' });
        return {};
      },
    };
  };
  switch (chosen) {
    case 'partition-halves':
      return partition(randomHalves(ids, random));
    case 'partition-majorities-ring':
      return partition(majoritiesRing(ids, random));
    case 'partition-bridge':
      return partition(bridge(ids, random));
    case 'partition-one-way':
      return partition(oneWay(ids, random));
    case 'partition-isolate-leader': {
      // Asked straight at each node's http port: the harness's view is never partitioned.
      const leader = await cluster.leader();
      const node = leader ?? pick(ids, random);
      const fault = partition(isolateNode(ids, node), { leaderKnown: leader !== null, pinnedShare });
      // Some clients read only through the old leader while it is cut off: a node that serves
      // reads without confirming its leadership shows stale values to exactly these clients.
      ctx.workload.setPin({ endpoint: cluster.clientEndpoint(node), share: pinnedShare });
      return {
        ...fault,
        heal: async () => {
          ctx.workload.setPin(null);
          return fault.heal();
        },
      };
    }
    case 'kill': {
      const nodes = minority(ids, random);
      await Promise.all(nodes.map((id) => cluster.kill(id)));
      return {
        name: chosen,
        detail: { nodes },
        heal: async () => {
          for (const id of nodes) await cluster.ensureRunning(id);
          return {};
        },
      };
    }
    case 'pause': {
      const leader = random() < 0.5 ? await cluster.leader() : null;
      const nodes = leader !== null ? [leader] : minority(ids, random);
      for (const id of nodes) await cluster.pause(id);
      return {
        name: chosen,
        detail: { nodes, leader: leader !== null },
        heal: async () => {
          for (const id of nodes) await cluster.resume(id);
          return {};
        },
      };
    }
    case 'delay': {
      const ms = 20 + Math.floor(random() * 100);
      const jitterMs = Math.floor(ms / 2);
      const links = cluster.proxies.names().filter((n) => !n.startsWith('client->'));
      cluster.proxies.setModes(links, { kind: 'delay', ms, jitterMs });
      return {
        name: chosen,
        detail: { ms, jitterMs, links },
        heal: async () => {
          cluster.proxies.setModes(links, { kind: 'pass' });
          return {};
        },
      };
    }
    case 'failpoint-crash': {
      const node = pick(ids, random);
      const failpoints = pick(failpointSpecs, random);
      const env = { KVAPP_FAILPOINTS: failpoints };
      await cluster.restart(node, 'kill', env);
      // While the period lasts, a node that crashed at its failpoint is started again armed, so
      // it keeps crashing at that point under load.
      let crashes = 0;
      let watching = true;
      const watcher = (async () => {
        while (watching && !ctx.signal.aborted) {
          await sleep(crashPollMs);
          if (!watching) break;
          if (!cluster.process(node).alive) {
            crashes += 1;
            // A failed restart is retried on the next poll; heal() starts it clean anyway.
            await cluster.restart(node, 'kill', env).catch(() => {});
          }
        }
      })();
      return {
        name: chosen,
        detail: { node, failpoints },
        heal: async () => {
          watching = false;
          await watcher.catch(() => {});
          if (!cluster.process(node).alive) crashes += 1;
          await cluster.ensureRunning(node);
          return { crashes };
        },
      };
    }
    default: {
      const never: never = chosen as never;
      throw new Error(`unknown nemesis ${String(never)}`);
    }
  }
}

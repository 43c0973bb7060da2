import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KvCluster } from '../../run/kv-cluster.js';
import type { Workload } from '../../workload/workload.js';
import { bandColours } from '../band-colours.js';
import type { NemesisModule } from '../module.js';
import type { Random } from '../partitions.js';
import { applyPowerCut } from '../power-cut.js';
import type { PowerCutCounts } from '../power-cut.js';

/** Which nodes lose power together: one (a minority), a majority with the leader, or every node. */
export type PowerCutShape = 'one' | 'majority' | 'all';

const shapes: readonly PowerCutShape[] = ['one', 'majority', 'all'];

/**
 * The shapes in a seeded order, cycled through for the whole run: each shape once in every three
 * faults, so that of any two faults in a row at least one cuts a majority or every node (the cuts
 * that can lose acknowledged writes when a node acknowledges too early).
 */
export function shapeOrder(random: Random): PowerCutShape[] {
  const order = [...shapes];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * The nodes a cut of `shape` takes down, sorted: one drawn node; a majority made of the leader
 * (when one is known) and drawn others; or all of them.
 */
export function powerCutNodes(shape: PowerCutShape, ids: readonly string[], leader: string | null, random: Random): string[] {
  if (shape === 'all') return [...ids].sort();
  const size = shape === 'one' ? 1 : Math.floor(ids.length / 2) + 1;
  const chosen = shape === 'majority' && leader !== null && ids.includes(leader) ? [leader] : [];
  const rest = ids.filter((id) => !chosen.includes(id));
  while (chosen.length < size) chosen.push(rest.splice(Math.floor(random() * rest.length), 1)[0]!);
  return chosen.sort();
}

/** A node's disk journal: `<runDir>/faults/<id>.disk-journal.jsonl`, absolute (the node refuses a relative one). */
export function diskJournalPath(runDir: string, id: string): string {
  return resolve(runDir, 'faults', `${id}.disk-journal.jsonl`);
}

/**
 * How long the heal waits for the cluster to be whole again (every node healthy under one leader)
 * after starting the cut nodes. A node restarting after a cut replays its log, and a whole cluster
 * elects anew; the recovery that follows the heal should be time with the cluster up, or the next
 * cut falls on nodes still starting, with nothing in flight to lose.
 */
export const backMsMax = 20_000;
const backPollMs = 200;

/** How long a cut waits for the workload's next acknowledged write before it falls anyway. */
export const ackWaitMsMax = 5000;

/**
 * Resolves on the workload's next acknowledged write, cas or delete, with performance.now() then;
 * null after `msMax` (or on abort) without one.
 */
export function nextAcknowledgedWrite(workload: Pick<Workload, 'watch'>, msMax: number, signal: AbortSignal): Promise<number | null> {
  return new Promise((resolve) => {
    const done = (at: number | null): void => {
      unwatch();
      clearTimeout(timer);
      signal.removeEventListener('abort', aborted);
      resolve(at);
    };
    const aborted = (): void => done(null);
    const unwatch = workload.watch((op) => {
      if (op.status === 'ok' && op.f !== 'read') done(op.completedMs);
    });
    const timer = setTimeout(() => done(null), msMax);
    if (signal.aborted) done(null);
    else signal.addEventListener('abort', aborted, { once: true });
  });
}

/** Where each run is in its shape order, by cluster. */
const cycles = new WeakMap<KvCluster, { readonly order: PowerCutShape[]; next: number }>();

/** The counts of several cuts added up. */
function sum(all: readonly PowerCutCounts[]): PowerCutCounts {
  const total = { filesTruncated: 0, bytesCut: 0, filesRemoved: 0, dirsRemoved: 0, tornPieces: 0, tornSectors: 0, undetermined: 0 };
  for (const c of all) for (const k of Object.keys(total) as (keyof PowerCutCounts)[]) total[k] += c[k];
  return total;
}

/**
 * A power cut: nodes killed -9 together, right after the workload's next acknowledged write (5 s at
 * most; `afterAckMs` in the detail, null when none came), then each data dir cut back to what its node's disk
 * journal says was durable (src/nemesis/power-cut.ts), seeded; they stay down until the heal
 * starts them again and waits (bounded) until the cluster is whole. Every node runs with the disk
 * journal on (nodeEnv). The end line's detail adds what the cut did, summed over the nodes (`cut`)
 * and by node (`cutByNode`), and `backMs`: heal to every node healthy (null: not within backMsMax).
 */
export const powerCut: NemesisModule = {
  description: 'power cut: one node, a majority with the leader, or every node killed -9, unsynced bytes and names lost',
  start: async ({ cluster, workload, random, signal }) => {
    let cycle = cycles.get(cluster);
    if (cycle === undefined) cycles.set(cluster, (cycle = { order: shapeOrder(random), next: 0 }));
    const shape = cycle.order[cycle.next++ % cycle.order.length]!;
    const leader = shape === 'majority' ? await cluster.leader() : null;
    const nodes = powerCutNodes(shape, cluster.ids, leader, random);
    // The cut falls just after an acknowledged write: then a node that acknowledges before its
    // fsync has the most to lose, and a correct one loses nothing it acknowledged.
    const ackedAt = await nextAcknowledgedWrite(workload, ackWaitMsMax, signal);
    const cutAt = performance.now();
    await Promise.all(nodes.filter((id) => cluster.process(id).alive).map((id) => cluster.kill(id)));
    const afterAckMs = ackedAt === null ? null : Math.round(cutAt - ackedAt);
    const cutByNode: Record<string, PowerCutCounts> = {};
    for (const id of nodes) {
      cutByNode[id] = applyPowerCut({ dataDir: cluster.node(id).dataDir, journalPath: diskJournalPath(cluster.runDir, id), random });
    }
    const cut = sum(Object.values(cutByNode));
    return {
      detail: { shape, nodes, ...(shape === 'majority' ? { leader } : {}), afterAckMs },
      heal: async () => {
        const from = performance.now();
        for (const id of nodes) await cluster.ensureRunning(id);
        let backMs: number | null = null;
        while (backMs === null && performance.now() - from < backMsMax && !signal.aborted) {
          if (await cluster.healthy()) backMs = Math.round(performance.now() - from);
          else await sleep(backPollMs, undefined, { signal }).catch(() => {});
        }
        // Not back in time: the run's heal phase waits again and errs if the cluster stays broken.
        return { cut, cutByNode, backMs };
      },
    };
  },
  nodeEnv: ({ id, runDir }) => {
    const journal = diskJournalPath(runDir, id);
    mkdirSync(join(journal, '..'), { recursive: true });
    return { KVAPP_DISK_JOURNAL: journal };
  },
  note: (end) => {
    const cut = end.cut as PowerCutCounts | undefined;
    if (typeof cut !== 'object' || cut === null || !Array.isArray(end.nodes)) return null;
    return (
      `${String(end.shape)} cut of node${end.nodes.length > 1 ? 's' : ''} ${end.nodes.join(',')}: ` +
      `${cut.bytesCut} bytes cut from ${cut.filesTruncated} file(s), ${cut.filesRemoved} file(s) and ${cut.dirsRemoved} dir(s) removed, ` +
      `${cut.tornPieces} torn piece(s) (${cut.tornSectors} zero-ended), ${cut.undetermined} undetermined; ` +
      (typeof end.backMs === 'number' ? `whole again ${end.backMs} ms after the heal` : `not whole within ${backMsMax} ms of the heal`)
    );
  },
  inMix: true,
  nodesMin: 1,
  suiteNodes: { ci: 3, nightly: 5 },
  band: { label: 'power cut', colour: bandColours.storage },
};

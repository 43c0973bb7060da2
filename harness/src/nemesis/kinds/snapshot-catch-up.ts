import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseCompactions } from '../../cluster/node-signals.js';
import type { KvCluster } from '../../run/kv-cluster.js';
import { BallastWriter, ballastKeyCount } from '../ballast.js';
import type { BallastWritten } from '../ballast.js';
import { bandColours } from '../band-colours.js';
import { awaitSnapshotCatchUp, catchUpNote } from '../catch-up.js';
import type { CatchUpProbe } from '../catch-up.js';
import { pick } from '../choose.js';
import { cutOff } from '../cut-off.js';
import type { NemesisModule } from '../module.js';
import { isolateNode } from '../partitions.js';

/** Every node of the run snapshots (and drops its log) every this many applied entries. */
export const snapshotEntries = 200;
/** Ballast per fault: past one 16 MiB peer frame with room to spare, so the snapshot goes in chunks. */
export const ballastBytes = 22 * 2 ** 20;
/** Under the nodes' valueBytesMax (64 KiB), so each put is one entry: 385 of them, more than snapshotEntries. */
export const ballastValueBytes = 60_000;
const ballastWriters = 4;
/**
 * The ballast took 8-22 s per fault in the nightly at load 15; one took longer than 30 s while the
 * simulator and a test run shared the machine too (373 of 385 values written), and the run erred.
 */
const ballastMsMax = 60_000;
/** Small puts per nudge while the heal waits for the others' next snapshot (a tenth of snapshotEntries). */
const nudgePuts = 20;
/** After the cut, for entries the follower got but that were not committed yet to commit. */
const settleMs = 500;

/** /health, /metrics and the log files of a live cluster, as the catch-up judgement reads them. */
export function clusterProbe(cluster: KvCluster): CatchUpProbe {
  return {
    health: (id) => cluster.health(id),
    metrics: (id) => cluster.metricsText(id),
    compactions: async (id) => parseCompactions(await readFile(cluster.node(id).logFile, 'utf8').catch(() => '')),
  };
}

/**
 * A follower (never the leader by /health) is cut from every peer or killed, drawn half and half.
 * Meanwhile a ballast writer puts ~22 MiB of large values on keys outside the workload through the
 * other nodes, and every node, started with a low --snapshot-entries, snapshots and drops its log
 * past the follower's. The heal waits for the ballast and for every other node to have compacted
 * past the follower's log into a snapshot above one 16 MiB frame (writing small puts outside the
 * workload meanwhile, so that the next snapshot comes sooner), restores it, waits until it applied the leader's commit at the heal,
 * and proves that it came back by a snapshot larger than one peer frame (a chunked message counted
 * on the sender). Throws (the run then errs) when any of that fails. The end line's detail has the
 * snapshot's size, the install time and the evidence (catch-up.ts).
 */
export const snapshotCatchUp: NemesisModule = {
  description: 'a follower cut off or killed while the others take in ~22 MiB and compact past it; it must come back by a chunked snapshot',
  start: async ({ cluster, random, signal }) => {
    const leader = await cluster.leader();
    const follower = pick(
      cluster.ids.filter((id) => id !== leader),
      random,
    );
    const others = cluster.ids.filter((id) => id !== follower);
    const mode: 'cut-off' | 'kill' = random() < 0.5 ? 'cut-off' : 'kill';
    const fill = String.fromCharCode(0x61 + Math.floor(random() * 26));
    let restoreFollower: () => Promise<unknown>;
    if (mode === 'cut-off') restoreFollower = cutOff(cluster, isolateNode(cluster.ids, follower)).heal;
    else {
      await cluster.kill(follower);
      restoreFollower = () => cluster.ensureRunning(follower);
    }
    const writer = new BallastWriter(
      others.map((id) => cluster.clientEndpoint(id)),
      ballastWriters,
    );
    const ballast: Promise<BallastWritten | Error> = writer
      .write({ totalBytes: ballastBytes, valueBytes: ballastValueBytes, fill, msMax: ballastMsMax, signal })
      .catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    await sleep(settleMs, undefined, { signal });
    let indexAtCut = 0;
    for (const id of others) indexAtCut = Math.max(indexAtCut, (await cluster.health(id))?.commit ?? 0);
    return {
      detail: {
        follower,
        mode,
        leader,
        ballastBytes,
        ballastKeys: ballastKeyCount(ballastBytes, ballastValueBytes),
        snapshotEntries,
      },
      heal: async () => {
        let restored = false;
        const restore = async (): Promise<void> => {
          restored = true;
          await restoreFollower();
        };
        try {
          const written = await ballast;
          if (written instanceof Error) throw written;
          const figures = await awaitSnapshotCatchUp(clusterProbe(cluster), {
            follower,
            others,
            indexAtCut,
            restore,
            followerKeepsCounters: mode === 'cut-off',
            nudge: () => writer.nudge(nudgePuts),
            signal,
          });
          return { ...figures, ballastMs: written.ms, ballastRetries: written.retries };
        } finally {
          writer.close();
          if (!restored) await restoreFollower();
        }
      },
    };
  },
  inMix: false,
  nodesMin: 3,
  suiteNodes: { ci: 3, nightly: 5 },
  // CI: one fault, then quiet until the time limit; nightly: a fault every ~20-30 s.
  suiteTiming: { ci: { faultS: 4, recoverS: 60, timeLimitS: 20 }, nightly: { faultS: 8, recoverS: 8, timeLimitS: 240 } },
  nodeArgs: ['--snapshot-entries', String(snapshotEntries)],
  note: catchUpNote,
  band: { label: 'snapshot-catch-up', colour: bandColours.storage },
};

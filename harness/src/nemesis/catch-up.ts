import { metricSum } from '../cluster/node-signals.js';
import type { Compaction } from '../cluster/node-signals.js';

/**
 * The judgement of the snapshot-catch-up nemesis (kinds/snapshot-catch-up.ts), apart from the real
 * cluster so that a test can play it on a stub: did the others compact past the cut-off follower,
 * did it come back once restored, and did it come back by a snapshot larger than one peer frame?
 */

/** What the judgement reads of the nodes; KvCluster gives it through clusterProbe(). */
export interface CatchUpProbe {
  /** /health's indexes of a node; null when it does not answer. */
  health(id: string): Promise<{ readonly commit: number; readonly applied: number } | null>;
  /** /metrics as Prometheus text; null when it does not answer. */
  metrics(id: string): Promise<string | null>;
  /** The snapshots the node logged having taken, oldest first. */
  compactions(id: string): Promise<readonly Compaction[]>;
}

/** The sender's count of messages sent in chunks, i.e. larger than one peer frame (metrics.ts). */
export const chunkedMetric = { name: 'kvapp_peer_large_messages_total', labels: { outcome: 'chunked' } } as const;
/** Bytes a node received from its peers (all Raft messages, snapshots included). */
export const receivedMetric = { name: 'kvapp_peer_bytes_total', labels: { direction: 'received' } } as const;

/** One peer frame of the node's transport (transport/limits.ts frameBytesMax): a snapshot above it is chunked. */
export const peerFrameBytes = 16 * 1024 * 1024;

export interface CatchUpBounds {
  /** For the others to log a snapshot past the follower's log. */
  readonly compactMsMax: number;
  /** From the heal until the follower applied the leader's commit at the heal. */
  readonly catchUpMsMax: number;
  /** After the catch-up, for the senders' metrics (refreshed every 250 ms) to show the chunked message. */
  readonly evidenceMsMax: number;
  readonly pollMs: number;
}

export const catchUpBoundsDefault: CatchUpBounds = { compactMsMax: 15_000, catchUpMsMax: 20_000, evidenceMsMax: 3000, pollMs: 50 };

export interface CatchUpPlan {
  readonly follower: string;
  /** Every other node: any of them may lead when the follower comes back. */
  readonly others: readonly string[];
  /** The highest index the follower's log can hold: the others' commit just after the cut. */
  readonly indexAtCut: number;
  /** Undoes the cut (heals the links, or starts the killed node again). */
  readonly restore: () => Promise<void>;
  /** Whether the follower's process outlived the cut (a partition): its counters go on; a restart starts them at 0. */
  readonly followerKeepsCounters: boolean;
  /**
   * Writes a few more entries (small puts outside the workload), so that the next snapshot of every
   * node comes sooner; called while waiting for the others to compact. Absent: just wait.
   */
  readonly nudge?: () => Promise<void>;
  readonly signal: AbortSignal;
}

/** What one catch-up measured; the end line of its period in nemesis.jsonl. */
export interface CatchUpFigures {
  readonly indexAtCut: number;
  /** The newest snapshot every other node had taken before the heal (the lowest index of theirs). */
  readonly compactedTo: number;
  readonly leaderCommitAtHeal: number;
  /** Heal → the follower applied leaderCommitAtHeal. */
  readonly installMs: number;
  /** The node(s) whose chunked-message counter rose, and by how much in all. */
  readonly senders: readonly string[];
  readonly chunkedMessages: number;
  /** The snapshot sent: the sender's newest one taken before the catch-up (its log line's bytes and index). */
  readonly snapshotIndex: number;
  readonly snapshotBytes: number;
  /** Bytes the follower received from its peers between the heal and the catch-up check. */
  readonly followerReceivedBytes: number;
  /** The follower's applied index at each poll after the heal where it changed (the first appliedSeenMax): a snapshot is a jump. */
  readonly followerApplied: readonly number[];
}

const appliedSeenMax = 16;

export class CatchUpError extends Error {}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new CatchUpError('aborted'));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new CatchUpError('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

async function sumOver(probe: CatchUpProbe, ids: readonly string[], metric: { name: string; labels: Record<string, string> }) {
  const each = new Map<string, number>();
  for (const id of ids) {
    const text = await probe.metrics(id);
    each.set(id, text === null ? Number.NaN : metricSum(text, metric.name, metric.labels));
  }
  return each;
}

/** Each node's newest compaction (highest index; null when none). */
async function newestCompactions(probe: CatchUpProbe, ids: readonly string[]): Promise<Map<string, Compaction | null>> {
  const out = new Map<string, Compaction | null>();
  for (const id of ids) {
    let newest: Compaction | null = null;
    for (const c of await probe.compactions(id)) if (newest === null || c.index > newest.index) newest = c;
    out.set(id, newest);
  }
  return out;
}

function describeCompactions(m: ReadonlyMap<string, Compaction | null>): string {
  return [...m].map(([id, c]) => `${id}: ${c === null ? 'none' : `index ${c.index}, ${c.bytes} bytes`}`).join('; ');
}

function describe(m: ReadonlyMap<string, number>): string {
  return [...m].map(([id, v]) => `${id}: ${Number.isNaN(v) ? 'no answer' : v}`).join(', ');
}

/**
 * Waits until every other node logged a snapshot past the follower's log, restores the follower,
 * waits until it applied the leader's commit at the heal, and proves it came back by a snapshot
 * larger than one frame: a chunked message counted by some other node after the heal. Throws a
 * CatchUpError saying which step failed; `restore` has run by then unless the compaction step
 * failed (the caller restores in that case too).
 */
export async function awaitSnapshotCatchUp(
  probe: CatchUpProbe,
  plan: CatchUpPlan,
  bounds: CatchUpBounds = catchUpBoundsDefault,
): Promise<CatchUpFigures> {
  const { follower, others, signal } = plan;
  // 1. Every other node compacted past everything the follower holds, so appends cannot bring it
  // back, into a snapshot above one frame, so whichever of them leads sends it in chunks.
  const compactDeadline = performance.now() + bounds.compactMsMax;
  const enough = (c: Compaction | null): boolean => c !== null && c.index > plan.indexAtCut && c.bytes > peerFrameBytes;
  let compacted = await newestCompactions(probe, others);
  while (![...compacted.values()].every(enough)) {
    if (performance.now() >= compactDeadline) {
      throw new CatchUpError(
        `the others did not compact past follower ${follower}'s log (index ${plan.indexAtCut}) into a snapshot above ` +
          `${peerFrameBytes} bytes within ${bounds.compactMsMax} ms: newest snapshot ${describeCompactions(compacted)} ` +
          `(the nodes need a low --snapshot-entries, and the state must be past one frame)`,
      );
    }
    if (plan.nudge) await plan.nudge();
    else await sleep(bounds.pollMs * 4, signal);
    compacted = await newestCompactions(probe, others);
  }
  const compactedTo = Math.min(...[...compacted.values()].map((c) => c!.index));

  // 2. Counters before the heal, and the commit the follower must reach.
  const chunkedBefore = await sumOver(probe, others, chunkedMetric);
  const receivedBefore = plan.followerKeepsCounters ? await sumOver(probe, [follower], receivedMetric) : new Map([[follower, 0]]);
  let leaderCommitAtHeal = 0;
  for (const id of others) leaderCommitAtHeal = Math.max(leaderCommitAtHeal, (await probe.health(id))?.commit ?? 0);

  // 3. Heal, then wait for the follower.
  const healedAt = performance.now();
  await plan.restore();
  let applied: number | null = null;
  const appliedSeen: number[] = [];
  for (;;) {
    applied = (await probe.health(follower))?.applied ?? null;
    if (applied !== null && appliedSeen.at(-1) !== applied && appliedSeen.length < appliedSeenMax) appliedSeen.push(applied);
    if (applied !== null && applied >= leaderCommitAtHeal) break;
    if (performance.now() - healedAt >= bounds.catchUpMsMax) {
      throw new CatchUpError(
        `follower ${follower} did not catch up within ${bounds.catchUpMsMax} ms of the heal: applied ${applied ?? 'no answer'}, ` +
          `the leader's commit at the heal ${leaderCommitAtHeal}`,
      );
    }
    await sleep(bounds.pollMs, signal);
  }
  const installMs = Math.round(performance.now() - healedAt);
  const caughtUpWallMs = Date.now();

  // 4. By a chunked snapshot? Metrics refresh on a timer: give them a moment.
  const evidenceDeadline = performance.now() + bounds.evidenceMsMax;
  let chunkedAfter = await sumOver(probe, others, chunkedMetric);
  const rose = (): string[] => others.filter((id) => (chunkedAfter.get(id) ?? 0) > (chunkedBefore.get(id) ?? 0));
  while (rose().length === 0 && performance.now() < evidenceDeadline) {
    await sleep(bounds.pollMs * 4, signal);
    chunkedAfter = await sumOver(probe, others, chunkedMetric);
  }
  const senders = rose();
  if (senders.length === 0) {
    throw new CatchUpError(
      `follower ${follower} caught up in ${installMs} ms, but no other node sent a chunked message after the heal ` +
        `(${chunkedMetric.name}{outcome="chunked"} before ${describe(chunkedBefore)}, after ${describe(chunkedAfter)}): ` +
        `it did not come back by a snapshot larger than one ${peerFrameBytes}-byte frame`,
    );
  }
  const chunkedMessages = senders.reduce((s, id) => s + chunkedAfter.get(id)! - chunkedBefore.get(id)!, 0);
  const receivedAfter = (await sumOver(probe, [follower], receivedMetric)).get(follower)!;
  const followerReceivedBytes = receivedAfter - receivedBefore.get(follower)!;

  // 5. The snapshot's size: the sender's newest snapshot taken before the catch-up, at or below what the follower applied.
  const sent = (await probe.compactions(senders[0]!)).filter((c) => c.timeMs <= caughtUpWallMs && c.index <= applied!).at(-1);
  if (sent === undefined) throw new CatchUpError(`node ${senders[0]} sent a chunked message but logged no snapshot before it`);
  return {
    indexAtCut: plan.indexAtCut,
    compactedTo,
    leaderCommitAtHeal,
    installMs,
    senders,
    chunkedMessages,
    snapshotIndex: sent.index,
    snapshotBytes: sent.bytes,
    followerReceivedBytes,
    followerApplied: appliedSeen,
  };
}

/** The line results.json, the chaos output and report.html show for one catch-up. */
export function catchUpNote(d: Record<string, unknown>): string | null {
  const n = (k: string): number | null => (typeof d[k] === 'number' ? d[k] : null);
  const follower = typeof d['follower'] === 'string' ? d['follower'] : '?';
  const mode = typeof d['mode'] === 'string' ? d['mode'] : '?';
  if (typeof d['healError'] === 'string') return `follower ${follower} (${mode}) did not come back by snapshot: ${d['healError']}`;
  const bytes = n('snapshotBytes');
  const ms = n('installMs');
  if (bytes === null || ms === null) return null;
  const senders = Array.isArray(d['senders']) ? (d['senders'] as unknown[]).join(',') : '?';
  return (
    `follower ${follower} (${mode}) back by a chunked snapshot from node ${senders}: ` +
    `${(bytes / 2 ** 20).toFixed(1)} MiB (${bytes} bytes) at index ${n('snapshotIndex') ?? '?'}, ` +
    `installed in ${(ms / 1000).toFixed(2)} s (heal → applied ≥ commit ${n('leaderCommitAtHeal') ?? '?'}; log cut at ${n('indexAtCut') ?? '?'}, others compacted to ${n('compactedTo') ?? '?'})`
  );
}

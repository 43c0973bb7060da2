import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KvCluster } from '../../run/kv-cluster.js';
import { bandColours } from '../band-colours.js';
import { pick } from '../choose.js';
import type { NemesisModule } from '../module.js';
import { seededRandom } from '../partitions.js';

/** The stall drawn before each of the node's syncs, ms: a slow disk, not a dead one. */
export const stallMsMin = 100;
export const stallMsMax = 2000;
/** How often the stall is drawn again while the fault lasts. */
export const stallRedrawMs = 1000;
/** Draws per fault at most, whatever the fault's length (the loop is bounded). */
const stallDrawsMax = 600;

/** A node's stall file: `<runDir>/faults/<id>.disk-stall`, absolute (the node refuses a relative one). */
export function diskStallPath(runDir: string, id: string): string {
  return resolve(runDir, 'faults', `${id}.disk-stall`);
}

/** Sets the node's stall: a temp file renamed over the stall file, so the node never reads half a number. */
export function writeStall(file: string, ms: number): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${ms}\n`);
  renameSync(tmp, file);
}

/** Whose disk the next fault slows, by cluster: the leader and a follower take turns from a seeded start. */
const nextRole = new WeakMap<KvCluster, 'leader' | 'follower'>();

/**
 * A slow disk: the leader's or a follower's syncs (the leader and a follower in turn, the first
 * drawn) each wait 100–2000 ms, drawn again about every second while the fault lasts; the heal sets
 * 0. The node's event loop keeps running (disk-probe stall: an awaited timer before each sync), so
 * a slow leader keeps its followers while its writes crawl. Nothing acknowledged may be lost.
 */
export const slowDisk: NemesisModule = {
  description: "the leader's or a follower's disk slow: 100-2000 ms before each sync, redrawn every second",
  start: async ({ cluster, random, signal }) => {
    const role = nextRole.get(cluster) ?? (random() < 0.5 ? 'leader' : 'follower');
    nextRole.set(cluster, role === 'leader' ? 'follower' : 'leader');
    const leader = await cluster.leader();
    const followers = cluster.ids.filter((id) => id !== leader);
    const node = role === 'leader' && leader !== null ? leader : pick(followers.length > 0 ? followers : cluster.ids, random);
    const file = diskStallPath(cluster.runDir, node);
    // The redraws come from a stream of their own, seeded once: how many a fault makes depends on
    // timing, and the run's stream must not (the next fault's choices would).
    const stalls = seededRandom(Math.floor(random() * 2 ** 32));
    const stallsMs: number[] = [];
    const draw = (): void => {
      const ms = stallMsMin + Math.floor(stalls() * (stallMsMax - stallMsMin + 1));
      stallsMs.push(ms);
      writeStall(file, ms);
    };
    draw();
    const healing = new AbortController();
    const both = AbortSignal.any([signal, healing.signal]);
    const redraws = (async () => {
      while (stallsMs.length < stallDrawsMax && !both.aborted) {
        await sleep(stallRedrawMs, undefined, { signal: both }).catch(() => {});
        if (!both.aborted) draw();
      }
    })();
    return {
      detail: { node, role: node === leader ? 'leader' : leader === null ? 'unknown' : 'follower' },
      heal: async () => {
        healing.abort();
        await redraws;
        writeStall(file, 0);
        return { stallsMs };
      },
    };
  },
  nodeEnv: ({ id, runDir }) => {
    const file = diskStallPath(runDir, id);
    mkdirSync(join(file, '..'), { recursive: true });
    return { KVAPP_DISK_STALL_FILE: file };
  },
  note: (end) =>
    Array.isArray(end.stallsMs) && end.stallsMs.length > 0
      ? `node ${String(end.node)} (${String(end.role)}): ${end.stallsMs.length} stall(s) of ${Math.min(...(end.stallsMs as number[]))}-${Math.max(...(end.stallsMs as number[]))} ms before each sync`
      : null,
  inMix: true,
  nodesMin: 1,
  suiteNodes: { ci: 3, nightly: 5 },
  band: { label: 'slow disk', colour: bandColours.storage },
};

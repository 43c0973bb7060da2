import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { clock } from '../../src/nemesis/kinds/clock.js';
import { setNodeClockRate } from '../../src/nemesis/node-clock.js';
import { KvCluster } from '../../src/run/kv-cluster.js';

/**
 * The clock nemesis reaches into kvapp-node itself, not only into a file: with the leader's clock at
 * x4 its Raft timers (ticks, hence heartbeats) run four times as fast, so it sends several times the
 * messages per real second. Real kvapp-node processes: build first (`npm run build`).
 */

const runDir = mkdtempSync(join(tmpdir(), 'kvapp-clock-bites-'));
t.teardown(() => rmSync(runDir, { recursive: true, force: true }));

const leaderWaitMs = 20_000;
const sampleMs = 1500;

/** Raft messages `from` has sent to `to` so far (its /metrics), or null when it does not answer. */
async function sentTo(cluster: KvCluster, from: string, to: string): Promise<number | null> {
  const text = await cluster.metricsText(from);
  if (text === null) return null;
  for (const line of text.split('\n')) {
    if (!line.startsWith('kvapp_peer_messages_total{')) continue;
    if (line.includes(`peer="${to}"`) && line.includes('direction="sent"')) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/** Messages `from` sends `to` per real second, over sampleMs. */
async function rate(cluster: KvCluster, from: string, to: string): Promise<number> {
  const before = await sentTo(cluster, from, to);
  const started = performance.now();
  await sleep(sampleMs);
  const after = await sentTo(cluster, from, to);
  if (before === null || after === null) throw new Error(`node ${from} stopped answering /metrics`);
  return ((after - before) * 1000) / (performance.now() - started);
}

t.test('a leader at x4 heartbeats several times as often per real second', async (t) => {
  const cluster = await KvCluster.start({ runDir, nodes: 3, nodeEnvFor: clock.nodeEnv! });
  t.teardown(() => cluster.close());
  let leader: string | null = null;
  const deadline = performance.now() + leaderWaitMs;
  while (leader === null && performance.now() < deadline) {
    await sleep(100);
    if (await cluster.healthy()) leader = await cluster.leader();
  }
  if (leader === null) throw new Error(`no leader within ${leaderWaitMs} ms`);
  const follower = cluster.ids.find((id) => id !== leader)!;
  const normal = await rate(cluster, leader, follower);
  setNodeClockRate(cluster, leader, 4);
  const fast = await rate(cluster, leader, follower);
  t.equal(await cluster.leader(), leader, 'still the leader (a fast leader only heartbeats more)');
  // Nominal: 20 heartbeats a second at x1 (50 ms), 80 at x4. A loaded machine may fire late timers.
  t.ok(fast > 2 * normal, `x1: ${normal.toFixed(1)} messages/s to ${follower}; x4: ${fast.toFixed(1)}/s`);
  setNodeClockRate(cluster, leader, 1);
  const healed = await rate(cluster, leader, follower);
  t.ok(healed < fast / 2, `x1 again: ${healed.toFixed(1)}/s`);
});

import t from 'tap';
import { RaftNode, seededRng, type Message, type NodeId } from '@kvapp/core';
import { MemoryDurableLog } from '../../src/node/memory-log.js';
import { KernelHost } from '../../src/node/kernel-host.js';
import type { RequestError } from '@kvapp/kernel';

/**
 * Linearizable reads that arrive together share one ReadIndex request (one heartbeat round),
 * and each still sees every write acknowledged before it started.
 */
function cluster(seed: number, refuseForwardedReads = false) {
  const voters = [1, 2, 3];
  const drivers = new Map<NodeId, KernelHost>();
  const sent: Message[] = [];
  const deliver = (messages: readonly Message[]) => {
    for (const m of messages) {
      sent.push(m);
      // Stands in for a leader that refuses the read (new in its term, or its read queue full).
      const refused =
        refuseForwardedReads && m.type === 'read-index'
          ? { ...m, type: 'read-index-resp' as const, from: m.to, to: m.from, reject: true }
          : undefined;
      if (refused) setImmediate(() => drivers.get(refused.to)?.step(refused));
      else setImmediate(() => drivers.get(m.to)?.step(m));
    }
  };
  const fatal: unknown[] = [];
  for (const id of voters) {
    const log = new MemoryDurableLog({ voters, learners: [], votersOutgoing: [] });
    const raft = new RaftNode({ id, storage: log.storage, rng: seededRng(seed + id), electionTicks: 10, heartbeatTicks: 2 });
    drivers.set(
      id,
      new KernelHost({
        raft,
        log,
        send: deliver,
        nowMs: () => 1_000,
        tickMs: 10,
        onFatal: (e) => fatal.push(e),
        limits: { requestTimeoutMs: 2_000 },
      }),
    );
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
  const run = async <T>(work: Promise<T>): Promise<T> => {
    let done = false;
    const result = work.finally(() => (done = true));
    for (let i = 0; i < 400 && !done; i++) {
      for (const d of drivers.values()) d.tick();
      await settle();
    }
    return result;
  };
  const electLeader = async (): Promise<KernelHost> => {
    for (let round = 0; round < 200; round++) {
      const found = [...drivers.values()].find((d) => d.status().role === 'leader');
      if (found !== undefined) return found;
      for (const d of drivers.values()) d.tick();
      await settle();
    }
    throw new Error(`no leader after 200 rounds (seed ${seed})`);
  };
  return { drivers, sent, fatal, run, electLeader, settle };
}

t.test('reads that arrive together share one heartbeat round and all see the last write', async (t) => {
  const c = cluster(7);
  const leader = await c.electLeader();
  const leaderId = leader.status().id;
  for (let i = 0; i < 20; i++)
    t.same(await c.run(leader.execute({ kind: 'put', key: `k${i}`, value: `v${i}`, session: null })), { type: 'ok', value: null });
  await c.settle();

  const readRounds = () => c.sent.filter((m) => m.from === leaderId && m.type === 'heartbeat' && m.context !== null).length;
  const before = readRounds();
  const reads = Array.from({ length: 50 }, (_, i) => leader.readLinearizable(`k${i % 20}`));
  const values = await c.run(Promise.all(reads));
  t.same(
    values,
    Array.from({ length: 50 }, (_, i) => `v${i % 20}`),
    'every read sees its key',
  );
  const rounds = readRounds() - before;
  // One ReadIndex request sends one heartbeat per peer; 50 separate requests would send 100.
  t.ok(rounds >= 2 && rounds <= 4, `50 reads cost ${rounds} heartbeats with a read context (one round is 2)`);
  t.equal(leader.pendingCount, 0, 'nothing is left waiting');

  // A write acknowledged before a batch starts is seen by every read in it.
  t.same(await c.run(leader.execute({ kind: 'put', key: 'k0', value: 'after', session: null })), { type: 'ok', value: 'v0' });
  const again = await c.run(Promise.all([leader.readLinearizable('k0'), leader.readLinearizable('k0')]));
  t.same(again, ['after', 'after']);
  t.same(c.fatal, []);
});

t.test('a batch whose ReadIndex is refused fails every read in it, and leaves nothing behind', async (t) => {
  const c = cluster(11);
  // No ticks yet: nobody knows a leader, so the core refuses the ReadIndex request.
  const node = c.drivers.get(1)!;
  const outcomes = await Promise.allSettled([node.readLinearizable('x'), node.readLinearizable('y')]);
  t.same(
    outcomes.map((o) => (o.status === 'rejected' ? (o.reason as RequestError).code : 'fulfilled')),
    ['NOT_LEADER', 'NOT_LEADER'],
    'both reads of the batch fail NOT_LEADER',
  );
  t.equal(node.pendingCount, 0, 'nothing is left waiting');
  t.same(c.fatal, []);
});

t.test('reads forwarded to a leader that refuses them fail at once (retryable), not at the deadline', async (t) => {
  const c = cluster(13, true);
  const leader = await c.electLeader();
  const follower = [...c.drivers.values()].find((d) => d !== leader && d.status().lead === leader.status().id);
  t.ok(follower, 'a follower knows the leader');
  const outcomes = await c.run(Promise.allSettled([follower!.readLinearizable('x'), follower!.readLinearizable('y')]));
  t.same(
    outcomes.map((o) => (o.status === 'rejected' ? (o.reason as RequestError).code : 'fulfilled')),
    ['OVERLOADED', 'OVERLOADED'],
    'both fail OVERLOADED, which the client retries (without the refusal they would wait for the 2 s deadline: TIMEOUT)',
  );
  t.equal(follower!.pendingCount, 0, 'nothing is left waiting');
  t.same(c.fatal, []);
});

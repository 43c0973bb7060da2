import t from 'tap';
import { RaftNode, seededRng, type KvResult, type Message, type NodeId } from '@kvapp/core';
import { MemoryDurableLog } from '../../src/node/memory-log.js';
import { KernelHost } from '../../src/node/kernel-host.js';
import { RequestError } from '@kvapp/kernel';

/** Three drivers in one process, messages delivered asynchronously, ticks driven by the test. */
function cluster(seed: number) {
  const voters = [1, 2, 3];
  const drivers = new Map<NodeId, KernelHost>();
  const logs = new Map<NodeId, MemoryDurableLog>();
  const fatal: unknown[] = [];
  const deliver = (messages: readonly Message[]) => {
    for (const m of messages) setImmediate(() => drivers.get(m.to)?.step(m));
  };
  for (const id of voters) {
    const log = new MemoryDurableLog({ voters, learners: [], votersOutgoing: [] });
    logs.set(id, log);
    const raft = new RaftNode({ id, storage: log.storage, rng: seededRng(seed + id), electionTicks: 10, heartbeatTicks: 2 });
    drivers.set(id, new KernelHost({ raft, log, send: deliver, nowMs: () => 1_000, tickMs: 10, onFatal: (e) => fatal.push(e), limits: { requestTimeoutMs: 2_000 } }));
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
  const leader = (): NodeId | undefined => [...drivers.entries()].find(([, d]) => d.status().role === 'leader')?.[0];
  const electLeader = async (): Promise<NodeId> => {
    for (let round = 0; round < 200; round++) {
      const found = leader();
      if (found !== undefined) {
        // wait until the leader has committed its term's first entry, so reads are served
        await settle();
        return found;
      }
      for (const d of drivers.values()) d.tick();
      await settle();
    }
    throw new Error(`no leader after 200 rounds (seed ${seed})`);
  };
  return { drivers, logs, fatal, electLeader, settle };
}

async function heartbeatsWhile<T>(c: ReturnType<typeof cluster>, work: Promise<T>): Promise<T> {
  let done = false;
  const result = work.finally(() => (done = true));
  for (let i = 0; i < 400 && !done; i++) {
    for (const d of c.drivers.values()) d.tick();
    await c.settle();
  }
  return result;
}

t.test('a write through the leader is applied on every node and read back linearizably', async (t) => {
  const c = cluster(1);
  const leaderId = await c.electLeader();
  const leader = c.drivers.get(leaderId)!;
  const put = await heartbeatsWhile(c, leader.execute({ kind: 'put', key: 'k', value: 'v1', session: null }));
  t.same(put, { type: 'ok', value: null });
  const value = await heartbeatsWhile(c, leader.readLinearizable('k'));
  t.equal(value, 'v1');
  await heartbeatsWhile(c, c.settle());
  for (const [id, d] of c.drivers) t.equal(d.readLocal('k'), 'v1', `node ${id} applied the write`);
  t.same(c.fatal, []);
  for (const d of c.drivers.values()) d.stop();
});

t.test('a follower refuses a write with NOT_LEADER naming the leader', async (t) => {
  const c = cluster(2);
  const leaderId = await c.electLeader();
  await heartbeatsWhile(c, c.settle());
  const followerId = [1, 2, 3].find((id) => id !== leaderId)!;
  const error = await c.drivers.get(followerId)!.execute({ kind: 'put', key: 'k', value: 'x', session: null }).catch((e: unknown) => e);
  t.ok(error instanceof RequestError);
  t.equal((error as RequestError).code, 'NOT_LEADER');
  t.equal((error as RequestError).leader, leaderId);
  t.equal((error as RequestError).definite, true);
  for (const d of c.drivers.values()) d.stop();
});

t.test('a retried sessioned write applies once and answers with its first result', async (t) => {
  const c = cluster(3);
  const leader = c.drivers.get(await c.electLeader())!;
  const registered = (await heartbeatsWhile(c, leader.execute({ kind: 'register' }))) as KvResult & { type: 'registered' };
  t.equal(registered.type, 'registered');
  const session = { clientId: registered.clientId, seq: 1 };
  await heartbeatsWhile(c, leader.execute({ kind: 'put', key: 'k', value: 'a', session: null }));
  const first = await heartbeatsWhile(c, leader.execute({ kind: 'cas', key: 'k', expected: 'a', value: 'b', session }));
  const retry = await heartbeatsWhile(c, leader.execute({ kind: 'cas', key: 'k', expected: 'a', value: 'b', session }));
  t.same(first, { type: 'ok', value: 'a' });
  t.same(retry, first, 'the retry got the cached first result, not a cas mismatch');
  t.equal(leader.readLocal('k'), 'b');
  for (const d of c.drivers.values()) d.stop();
});

t.test('writes that arrive during one persist share the next one (group commit)', async (t) => {
  const c = cluster(4);
  const leaderId = await c.electLeader();
  const leader = c.drivers.get(leaderId)!;
  await heartbeatsWhile(c, c.settle());
  const before = c.logs.get(leaderId)!.persistCount;
  const writes = Array.from({ length: 50 }, (_, i) => leader.execute({ kind: 'put', key: `k${i}`, value: `${i}`, session: null }));
  const results = await heartbeatsWhile(c, Promise.all(writes));
  t.equal(results.length, 50);
  const persists = c.logs.get(leaderId)!.persistCount - before;
  t.ok(persists < 50, `50 writes took ${persists} persists on the leader`);
  for (const d of c.drivers.values()) d.stop();
});

t.test('a malformed command is refused as BAD_REQUEST without harming the node', async (t) => {
  const c = cluster(5);
  const leader = c.drivers.get(await c.electLeader())!;
  const error = await leader.execute({ kind: 'put', key: '\ud800', value: 'x', session: null }).catch((e: unknown) => e);
  t.equal((error as RequestError).code, 'BAD_REQUEST');
  const ok = await heartbeatsWhile(c, leader.execute({ kind: 'put', key: 'fine', value: 'x', session: null }));
  t.equal(ok.type, 'ok');
  t.same(c.fatal, []);
  for (const d of c.drivers.values()) d.stop();
});

import t from 'tap';
import type { Logger } from 'pino';
import { RaftNode, seededRng, type ConfState, type KvResult, type Message, type NodeId } from '@kvapp/core';
import type { PersistBatch } from '../../src/node/durable-log.js';
import { MemoryDurableLog } from '../../src/node/memory-log.js';
import { KernelHost, type KernelHostOptions, type ProposalOutcome } from '../../src/node/kernel-host.js';
import { RequestError } from '@kvapp/kernel';
import { duplicateKeys, rawLogCapture } from '../support/log-lines.js';

/** Three drivers in one process, messages delivered asynchronously, ticks driven by the test. */
function cluster(
  seed: number,
  extra: (id: NodeId) => Partial<KernelHostOptions> = () => ({}),
  makeLog: (conf: ConfState) => MemoryDurableLog = (conf) => new MemoryDurableLog(conf),
) {
  const voters = [1, 2, 3];
  const drivers = new Map<NodeId, KernelHost>();
  const logs = new Map<NodeId, MemoryDurableLog>();
  const fatal: unknown[] = [];
  const deliver = (messages: readonly Message[]) => {
    for (const m of messages) setImmediate(() => drivers.get(m.to)?.step(m));
  };
  for (const id of voters) {
    const log = makeLog({ voters, learners: [], votersOutgoing: [] });
    logs.set(id, log);
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
        ...extra(id),
      }),
    );
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
  const error = await c.drivers
    .get(followerId)!
    .execute({ kind: 'put', key: 'k', value: 'x', session: null })
    .catch((e: unknown) => e);
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

/**
 * A log that checks what the WAL checks when a save is handed to it (each batch's entries follow
 * the last entry it was given, or replace a suffix), and that holds persists and the next
 * compaction until the test lets them go.
 */
class GatedLog extends MemoryDurableLog {
  readonly gaps: string[] = [];
  holdPersists = false;
  holdNextCompaction = false;
  private lastGiven = 0;
  private readonly heldPersists: Array<() => void> = [];
  private heldCompaction: (() => void) | null = null;

  override async persist(batch: PersistBatch): Promise<void> {
    const first = batch.entries[0];
    if (batch.snapshot) this.lastGiven = batch.snapshot.meta.index;
    if (first !== undefined) {
      if (first.index > this.lastGiven + 1) this.gaps.push(`entry ${first.index} after ${this.lastGiven}`);
      this.lastGiven = batch.entries.at(-1)!.index;
    }
    if (this.holdPersists) await new Promise<void>((resolve) => this.heldPersists.push(resolve));
    await super.persist(batch);
  }

  override async compact(index: number, conf: ConfState, data: Uint8Array): Promise<void> {
    if (this.holdNextCompaction) {
      this.holdNextCompaction = false;
      await new Promise<void>((resolve) => (this.heldCompaction = resolve));
    }
    await super.compact(index, conf, data);
  }

  get compactionHeld(): boolean {
    return this.heldCompaction !== null;
  }

  releaseCompaction(): void {
    this.heldCompaction?.();
    this.heldCompaction = null;
  }

  releasePersists(): void {
    this.holdPersists = false;
    for (const release of this.heldPersists.splice(0)) release();
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

t.test('entry writes queued behind a compaction reach the log in order: a later write never jumps one still waiting', async (t) => {
  const log = new GatedLog({ voters: [1], learners: [], votersOutgoing: [] });
  const fatal: unknown[] = [];
  const host = new KernelHost({
    raft: new RaftNode({ id: 1, storage: log.storage, rng: seededRng(14), electionTicks: 10, heartbeatTicks: 2 }),
    log,
    send: () => {},
    nowMs: () => 1_000,
    tickMs: 10,
    snapshotEntries: 1,
    onFatal: (e) => fatal.push(e),
  });
  for (let i = 0; i < 100 && host.status().role !== 'leader'; i++) {
    host.tick();
    await turn();
  }
  await turn();
  const put = (key: string) => host.execute({ kind: 'put', key, value: key, session: null });
  // A compaction that does not finish yet, and two entry writes queued behind it.
  log.holdNextCompaction = true;
  const writes = [put('p0')];
  for (let i = 0; i < 10 && !log.compactionHeld; i++) await turn();
  t.ok(log.compactionHeld, 'a compaction is in flight');
  writes.push(put('a1'));
  await turn();
  writes.push(put('a2'));
  await turn();
  // The compaction completes; the first queued write starts and stays in flight; then a new write comes.
  log.holdPersists = true;
  log.releaseCompaction();
  for (let i = 0; i < 5; i++) await turn();
  writes.push(put('b'));
  for (let i = 0; i < 5; i++) await turn();
  log.releasePersists();
  const outcomes = await Promise.allSettled(writes);
  t.same(log.gaps, [], 'every save followed the one before it');
  t.same(fatal, [], 'the node did not stop');
  t.same(
    outcomes.map((o) => o.status),
    ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'],
    'every write answered',
  );
  t.equal(host.readLocal('b'), 'b');
  host.stop();
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

/** A state-change line as logged, parsed (after checking its raw text for repeated keys). */
interface ChangeLine {
  readonly node: number;
  readonly msg: string;
  readonly role: string;
  readonly term: number;
  readonly leader: number;
  readonly previousRole: string;
  readonly previousTerm: number;
  readonly previousLeader: number;
  readonly reason: string;
  readonly from?: number;
}

t.test("role, term and leader changes are logged once each, with the core's reason: an election, then a transfer", async (t) => {
  const capture = rawLogCapture('info');
  // As start-node does: the node's logger is a child naming the node.
  const loggers = new Map<NodeId, Logger>([1, 2, 3].map((id) => [id, capture.logger.child({ node: id })]));
  const c = cluster(6, (id) => ({ logger: loggers.get(id)! }));
  const changes = (from = 0): ChangeLine[] =>
    capture.lines
      .slice(from)
      .map((l) => JSON.parse(l) as ChangeLine & { reason?: string })
      .filter((l): l is ChangeLine => l.reason !== undefined);
  const of = (id: NodeId) => changes().filter((l) => l.node === id);

  const first = await c.electLeader();
  const term = c.drivers.get(first)!.status().term;
  await heartbeatsWhile(c, c.settle());
  const won = of(first).slice(-3);
  t.same(
    won.map((l) => [l.msg, l.reason, l.role, l.term, l.leader]),
    [
      ['became pre-candidate', 'election-timeout', 'pre-candidate', term - 1, 0],
      ['became candidate', 'pre-vote-won', 'candidate', term, 0],
      ['became leader', 'election-won', 'leader', term, first],
    ],
    `node ${first} logged its PreVote, its campaign and its win`,
  );
  for (const id of [1, 2, 3].filter((n) => n !== first)) {
    const last = of(id).at(-1);
    t.equal(last?.leader, first, `node ${id} logged the new leader`);
    t.equal(last?.term, term);
    t.equal(last?.from, first, 'and who told it');
    t.ok(last?.reason === 'leader-seen' || last?.reason === 'higher-term', `for a reason the core gave: ${last?.reason}`);
  }

  const target = [1, 2, 3].find((n) => n !== first)!;
  const linesBefore = capture.lines.length;
  await c.drivers.get(first)!.transferLeadership(target);
  for (let i = 0; i < 400 && c.drivers.get(target)!.status().role !== 'leader'; i++) {
    for (const d of c.drivers.values()) d.tick();
    await c.settle();
  }
  await heartbeatsWhile(c, c.settle());
  t.equal(c.drivers.get(target)!.status().role, 'leader', 'the transfer finished');
  const after = changes(linesBefore);
  const targetLines = after.filter((l) => l.node === target);
  t.same(
    targetLines.map((l) => [l.msg, l.reason, l.from, l.previousRole, l.role, l.term]),
    [
      ['became candidate', 'leadership-transfer', first, 'follower', 'candidate', term + 1],
      ['became leader', 'election-won', undefined, 'candidate', 'leader', term + 1],
    ],
    'the target campaigned because of timeout-now from the leader, skipping PreVote',
  );
  t.same(
    after.filter((l) => l.node === first).map((l) => [l.msg, l.reason, l.from, l.role, l.leader]),
    [
      ['became follower', 'higher-term', target, 'follower', 0],
      ['new leader', 'leader-seen', target, 'follower', target],
    ],
    'the old leader stepped down on seeing the higher term, then followed the target',
  );
  const bystander = [1, 2, 3].find((n) => n !== first && n !== target)!;
  t.same(
    after.filter((l) => l.node === bystander).map((l) => [l.msg, l.reason, l.from, l.term, l.leader]),
    [
      ['new term', 'higher-term', target, term + 1, 0],
      ['new leader', 'leader-seen', target, term + 1, target],
    ],
    'the third node followed the transfer target into the new term',
  );

  const stateLines = capture.lines.filter((l) => l.includes('"reason"'));
  t.ok(stateLines.length >= 8, `${stateLines.length} state-change lines`);
  for (const line of stateLines) t.same(duplicateKeys(line), [], `no key twice: ${line}`);
  for (const line of stateLines) {
    t.same(
      Object.keys(JSON.parse(line) as object)
        .filter((k) => ['node', 'role', 'term', 'leader', 'reason'].includes(k))
        .sort(),
      ['leader', 'node', 'reason', 'role', 'term'],
    );
  }
  t.same(c.fatal, []);
  for (const d of c.drivers.values()) d.stop();
});

t.test('each proposal is reported once, by how it ended', async (t) => {
  const outcomes = new Map<NodeId, ProposalOutcome[]>([1, 2, 3].map((id) => [id, []]));
  const c = cluster(7, (id) => ({ onProposal: (outcome) => outcomes.get(id)!.push(outcome) }));
  const leaderId = await c.electLeader();
  const leader = c.drivers.get(leaderId)!;
  await heartbeatsWhile(c, leader.execute({ kind: 'put', key: 'k', value: 'v', session: null }));
  await heartbeatsWhile(c, leader.execute({ kind: 'cas', key: 'k', expected: 'other', value: 'w', session: null }));
  await leader.execute({ kind: 'put', key: '\ud800', value: 'x', session: null }).catch(() => undefined);
  const followerId = [1, 2, 3].find((id) => id !== leaderId)!;
  await c.drivers
    .get(followerId)!
    .execute({ kind: 'put', key: 'k', value: 'x', session: null })
    .catch(() => undefined);
  await c.settle();
  t.same(outcomes.get(leaderId), ['applied', 'applied', 'bad_request'], 'a cas mismatch is still an applied proposal');
  t.same(outcomes.get(followerId), ['not_leader']);
  for (const d of c.drivers.values()) d.stop();
});

t.test('after a fatal write error every request is still answered (STOPPED), none left hanging', async (t) => {
  const voters = [1];
  const log = new MemoryDurableLog({ voters, learners: [], votersOutgoing: [] });
  const raft = new RaftNode({ id: 1, storage: log.storage, rng: seededRng(9), electionTicks: 10, heartbeatTicks: 2 });
  const fatal: unknown[] = [];
  const host = new KernelHost({ raft, log, send: () => {}, nowMs: () => 1_000, tickMs: 10, onFatal: (e) => fatal.push(e) });
  for (let i = 0; i < 100 && host.softState.role !== 'leader'; i++) {
    host.tick();
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.equal(host.softState.role, 'leader', 'a one-node cluster elects itself');
  await host.idle();
  log.persist = () => Promise.reject(new Error('EIO: the disk went away'));
  const first = host.execute({ kind: 'put', key: 'a', value: '1', session: null }).catch((e: unknown) => e);
  const firstError = await first;
  t.equal(fatal.length, 1, 'the failed write is fatal');
  t.ok(firstError instanceof RequestError && firstError.code === 'STOPPED', 'the write in flight is answered STOPPED');
  const later = await Promise.allSettled([
    host.execute({ kind: 'put', key: 'b', value: '2', session: null }),
    host.readLinearizable('a'),
    host.transferLeadership(2),
  ]);
  t.same(
    later.map((o) => (o.status === 'rejected' ? (o.reason as RequestError).code : 'fulfilled')),
    ['STOPPED', 'STOPPED', 'STOPPED'],
    'requests after the fatal error are answered at once',
  );
  await host.idle();
});

import t from 'tap';
import type { KvResult } from '@kvapp/core';
import type { Answer } from '../src/index.js';
import { KernelCluster } from './support/kernel-cluster.js';

function collector<T>() {
  const answers: Answer<T>[] = [];
  return { answers, reply: (a: Answer<T>) => void answers.push(a) };
}

const put = (key: string, value: string) => ({ kind: 'put' as const, key, value, session: null });

t.test('a write through the leader is applied everywhere and answered; a follower answers NOT_LEADER naming the leader', (t) => {
  const c = new KernelCluster({ size: 3, seed: 1 });
  const leader = c.elect();
  const w = collector<KvResult>();
  c.kernel(leader).propose(put('k', 'v'), w.reply);
  c.settle();
  t.same(w.answers, [{ ok: true, value: { type: 'ok', value: null } }]);
  c.tickAll(); // a heartbeat carries the commit index to the followers
  c.settle();
  for (const [id, k] of c.kernels) t.equal(k.readLocal('k'), 'v', `node ${id} applied it`);
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  const f = collector<KvResult>();
  c.kernel(follower).propose(put('k', 'x'), f.reply);
  const a = f.answers[0];
  t.ok(
    a && !a.ok && a.error.code === 'NOT_LEADER' && a.error.leader === leader && a.error.definite,
    'NOT_LEADER, definite, with the leader',
  );
  t.end();
});

t.test('inputs are stepped while a write is in flight; each answer waits for its own write, never for a later one', (t) => {
  const c = new KernelCluster({ size: 1, seed: 2 });
  const id = c.elect();
  const k = c.kernel(id);
  const first = collector<KvResult>();
  k.propose(put('a', '1'), first.reply);
  t.equal(c.writes.get(id)!.length, 1, 'the first proposal started a write');
  const rest = collector<KvResult>();
  for (let i = 0; i < 10; i++) k.propose(put(`k${i}`, `${i}`), rest.reply);
  t.equal(c.writes.get(id)!.length, 11, 'the ten that followed were proposed and their writes started meanwhile');
  t.same(first.answers, [], 'not answered before its entry is durable');
  c.completeWrites(id, 1);
  t.equal(first.answers.length, 1, 'answered once its write completed (a one-node quorum)');
  t.same(rest.answers, [], 'the others wait for their own writes');
  c.completeWrites(id, 1);
  t.equal(rest.answers.length, 1, 'the next write completed: exactly its entry is answered');
  c.settle();
  t.equal(rest.answers.filter((a) => a.ok).length, 10);
  t.end();
});

t.test('with deferDrive, everything queued before one flush() shares one write (group commit)', (t) => {
  const c = new KernelCluster({ size: 1, seed: 2, deferDrive: true });
  const k = c.kernel(1);
  for (let i = 0; i < 100 && k.raft.status().commit === 0; i++) {
    k.tick();
    k.flush();
    c.settle();
    k.flush();
  }
  t.equal(k.raft.status().role, 'leader', 'the one node leads');
  const id = 1;
  const before = c.jobLog.get(id)!.length;
  const w = collector<KvResult>();
  for (let i = 0; i < 10; i++) k.propose(put(`k${i}`, `${i}`), w.reply);
  k.flush();
  const jobs = c.jobLog.get(id)!.slice(before);
  t.same(
    jobs.map((j) => (j.kind === 'persist' ? j.entries.length : -1)),
    [10],
    'one write with the ten entries',
  );
  c.settle();
  k.flush();
  t.equal(w.answers.filter((a) => a.ok).length, 10);
  t.end();
});

t.test('at readiesInFlightMax, inputs wait in the inbox until a write completes', (t) => {
  const c = new KernelCluster({ size: 1, seed: 12, limits: { readiesInFlightMax: 2 } });
  const id = c.elect();
  const k = c.kernel(id);
  for (let i = 0; i < 5; i++) k.propose(put(`k${i}`, 'v'), () => {});
  t.equal(c.writes.get(id)!.length, 2, 'two Readies in flight, the rest wait');
  t.equal(k.raft.status().lastIndex, 3, 'the waiting proposals are not in the log yet (entry 1 is the election)');
  c.completeWrites(id, 1);
  t.ok(c.writes.get(id)!.length <= 2, 'never more than the bound in flight');
  c.settle();
  t.equal(k.readLocal('k4'), 'v', 'all applied in the end');
  t.end();
});

t.test('a commit-only hard state is never written alone: it rides with the next write', (t) => {
  const c = new KernelCluster({ size: 3, seed: 3 });
  const leader = c.elect();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  const w = collector<KvResult>();
  c.kernel(leader).propose(put('k', 'v'), w.reply);
  c.settle();
  const jobsBefore = c.jobLog.get(follower)!.length;
  c.tickAll(); // the heartbeat tells the follower the new commit index
  c.settle();
  const status = c.kernel(follower).raft.status();
  t.equal(status.commit, c.kernel(leader).raft.status().commit, 'the follower learned the commit index');
  t.equal(c.jobLog.get(follower)!.length, jobsBefore, 'and wrote nothing for it');
  c.kernel(leader).propose(put('k2', 'v'), w.reply);
  c.settle();
  const job = c.jobLog.get(follower)!.at(-1)!;
  t.ok(
    job.kind === 'persist' && job.hardState !== null && job.hardState.commit >= status.commit,
    'the next write carries the newer commit index',
  );
  t.end();
});

t.test('deadlines count ticks: an unanswered write times out indeterminate, a read definite, a queued write definite', (t) => {
  const c = new KernelCluster({ size: 3, seed: 4, limits: { requestTimeoutTicks: 5 } });
  const leader = c.elect();
  const k = c.kernel(leader);
  c.network = [];
  const w = collector<KvResult>();
  k.propose(put('k', 'v'), w.reply); // its appends are lost below: it can never commit now
  c.completeWrites(leader);
  c.network = [];
  const queued = collector<KvResult>();
  k.propose(put('late', 'v'), queued.reply); // proposed: a write is not in flight now
  const r = collector<string | null>();
  k.read('k', r.reply);
  for (let i = 0; i < 5; i++) {
    t.same(w.answers, [], `not yet at tick ${i}`);
    k.tick();
    c.network = []; // isolate the leader: nothing commits
  }
  const timeout = w.answers[0];
  t.ok(timeout && !timeout.ok && timeout.error.code === 'TIMEOUT' && !timeout.error.definite, 'the write: TIMEOUT, outcome unknown');
  const read = r.answers[0];
  t.ok(read && !read.ok && read.error.code === 'TIMEOUT' && read.error.definite, 'the read: TIMEOUT, definite (a read changes nothing)');
  t.equal(k.pendingCount, 0, 'nothing waits any more');
  t.end();
});

t.test('a proposal that expires while it waits behind a write was never proposed: definite', (t) => {
  const c = new KernelCluster({ size: 1, seed: 5, limits: { requestTimeoutTicks: 2, readiesInFlightMax: 1 } });
  const id = c.elect();
  const k = c.kernel(id);
  k.propose(put('a', '1'), () => {});
  t.equal(c.writes.get(id)!.length, 1, 'a write is in flight (and stays: the disk is stuck)');
  const waiting = collector<KvResult>();
  k.propose(put('b', '2'), waiting.reply);
  k.tick();
  k.tick();
  const a = waiting.answers[0];
  t.ok(a && !a.ok && a.error.code === 'TIMEOUT' && a.error.definite, 'TIMEOUT, definite: it never reached the log');
  c.completeWrites(id);
  c.settle();
  t.equal(k.readLocal('b'), null, 'and it is not proposed later');
  t.end();
});

t.test('stop answers every waiting request STOPPED and refuses new ones', (t) => {
  const c = new KernelCluster({ size: 1, seed: 6, limits: { readiesInFlightMax: 1 } });
  const id = c.elect();
  const k = c.kernel(id);
  const inLog = collector<KvResult>();
  k.propose(put('a', '1'), inLog.reply);
  const queued = collector<KvResult>();
  k.propose(put('b', '2'), queued.reply);
  k.stop();
  const a = inLog.answers[0];
  const b = queued.answers[0];
  t.ok(a && !a.ok && a.error.code === 'STOPPED' && !a.error.definite, 'in the log: STOPPED, may still commit');
  t.ok(b && !b.ok && b.error.code === 'STOPPED' && b.error.definite, 'still queued: STOPPED, certainly not proposed');
  const late = collector<KvResult>();
  k.propose(put('c', '3'), late.reply);
  t.ok(late.answers[0] && !late.answers[0].ok && late.answers[0].error.code === 'STOPPED');
  t.equal(k.pendingCount, 0);
  c.completeWrites(id); // the write in flight still completes; nothing is answered twice
  t.equal(inLog.answers.length, 1);
  t.end();
});

t.test('requests past pendingRequestsMax are refused OVERLOADED (definite)', (t) => {
  const c = new KernelCluster({ size: 1, seed: 7, limits: { pendingRequestsMax: 3 } });
  const id = c.elect();
  const w = collector<KvResult>();
  for (let i = 0; i < 5; i++) c.kernel(id).propose(put(`k${i}`, 'v'), w.reply);
  t.same(
    w.answers.map((a) => (a.ok ? 'ok' : `${a.error.code}/${a.error.definite}`)),
    ['OVERLOADED/true', 'OVERLOADED/true'],
  );
  c.settle();
  t.equal(w.answers.filter((a) => a.ok).length, 3, 'the three admitted ones commit');
  t.end();
});

t.test('with deferDrive, inputs wait for flush() and reads that arrive together share one ReadIndex round', (t) => {
  const c = new KernelCluster({ size: 3, seed: 8, deferDrive: true });
  for (let i = 0; i < 300; i++) {
    for (const k of c.kernels.values()) {
      k.tick();
      k.flush();
    }
    c.settle();
    for (const k of c.kernels.values()) k.flush();
    if ([...c.kernels.values()].some((k) => k.raft.status().role === 'leader' && k.raft.status().commit > 0)) break;
  }
  const leader = [...c.kernels.values()].find((k) => k.raft.status().role === 'leader')!;
  const r = collector<string | null>();
  for (let i = 0; i < 20; i++) leader.read('k', r.reply);
  t.same(r.answers, [], 'nothing happens before flush()');
  c.network = [];
  leader.flush();
  const contexts = new Set(c.network.filter((m) => m.type === 'heartbeat' && m.context !== null).map((m) => String(m.context)));
  t.equal(contexts.size, 1, 'twenty reads, one ReadIndex context on the heartbeats');
  for (let i = 0; i < 10 && r.answers.length < 20; i++) {
    c.settle();
    for (const k of c.kernels.values()) k.flush();
  }
  t.equal(r.answers.filter((a) => a.ok && a.value === null).length, 20, 'all twenty served');
  t.end();
});

t.test('compaction is a write job, in order with the others, every snapshotEntries applied entries', (t) => {
  const c = new KernelCluster({ size: 1, seed: 9, snapshotEntries: 5 });
  const id = c.elect();
  for (let i = 0; i < 12; i++) {
    c.kernel(id).propose(put(`k${i}`, 'v'), () => {});
    c.settle();
  }
  const compactions = c.jobLog.get(id)!.filter((j) => j.kind === 'compact');
  t.ok(compactions.length >= 2, `${compactions.length} compactions for 12+ entries`);
  t.ok(c.storages.get(id)!.firstIndex() > 5, 'the log was compacted');
  t.equal(c.kernel(id).readLocal('k11'), 'v');
  t.end();
});

t.test('stop answers a membership change and a transfer still queued behind a write (definite: never proposed)', (t) => {
  const c = new KernelCluster({ size: 1, seed: 10, limits: { readiesInFlightMax: 1 } });
  const id = c.elect();
  const k = c.kernel(id);
  k.propose(put('a', '1'), () => {});
  t.equal(c.writes.get(id)!.length, 1, 'a write is in flight: what follows queues');
  const change = collector<{ index: number; term: number }>();
  const transfer = collector<null>();
  k.proposeConfChange({ kind: 'simple', action: 'add-learner', node: 2 }, change.reply);
  k.transferLeadership(2, transfer.reply);
  t.same(change.answers, [], 'queued, not answered yet');
  k.stop();
  for (const [name, a] of [
    ['change', change.answers],
    ['transfer', transfer.answers],
  ] as const) {
    t.equal(a.length, 1, `the ${name} is answered once`);
    const first = a[0];
    t.ok(first && !first.ok && first.error.code === 'STOPPED' && first.error.definite, `${name}: STOPPED, definite`);
  }
  c.completeWrites(id);
  t.equal(change.answers.length + transfer.answers.length, 2, 'and never again');
  t.end();
});

t.test('an input called back from send while a write finishes only queues (no Ready before accept)', (t) => {
  let kernelOf: ((id: number) => ReturnType<KernelCluster['kernel']>) | null = null;
  const callbacks: number[] = [];
  const c = new KernelCluster({
    size: 3,
    seed: 11,
    // As PeerTransport does: a dropped message is reported unreachable at once, from inside send.
    onSend: (id, messages) => {
      if (kernelOf === null || messages.length === 0) return;
      callbacks.push(id);
      kernelOf(id).unreachable(messages[0]!.to);
    },
  });
  const leader = c.elect();
  kernelOf = (id) => c.kernel(id);
  const w = collector<KvResult>();
  c.kernel(leader).propose(put('k', 'v'), w.reply);
  t.doesNotThrow(() => c.settle(), 'followers acknowledge from writeDone and the callback queues');
  t.ok(callbacks.length > 0, 'the callback ran');
  t.ok(w.answers[0]?.ok, 'the write committed');
  t.end();
});

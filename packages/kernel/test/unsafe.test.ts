import t from 'tap';
import type { KvResult, NodeId } from '@kvapp/core';
import { KERNEL_UNSAFE_NONE, type Answer, type KernelUnsafeSwitches } from '../src/index.js';
import { Proposals, type PendingProposal } from '../src/proposals.js';
import { KernelCluster } from './support/kernel-cluster.js';

// The planted kernel bugs (KernelUnsafeSwitches): each switch must break its rule when on, and the
// rule must hold when it is off (the default), or the simulator's proof that it catches the bug
// would prove nothing about the kernel that runs in production.

const put = (key: string, value: string) => ({ kind: 'put' as const, key, value, session: null });

function collector<T>() {
  const answers: Answer<T>[] = [];
  return { answers, reply: (a: Answer<T>) => void answers.push(a) };
}

/** A 3-node cluster with a leader, whose proposal's appends were delivered to the followers but no follower write completed. */
function appendsDelivered(unsafe?: KernelUnsafeSwitches) {
  const c = new KernelCluster({ size: 3, seed: 11, ...(unsafe ? { unsafe } : {}) });
  const leader = c.elect();
  const followers = [1, 2, 3].filter((id) => id !== leader) as NodeId[];
  const w = collector<KvResult>();
  c.kernel(leader).propose(put('k', 'v'), w.reply);
  const index = c.kernel(leader).raft.status().lastIndex;
  c.completeWrites(leader);
  const appends = c.network.filter((m) => m.type === 'append' && m.entries.some((e) => e.index === index));
  c.network = c.network.filter((m) => !appends.includes(m));
  for (const m of appends) c.kernel(m.to).step(m);
  return { c, leader, followers, index, w };
}

t.test('every switch is off by default', (t) => {
  t.same(KERNEL_UNSAFE_NONE, { ackBeforePersist: false, applyUncommitted: false, answerReplacedEntry: false });
  t.end();
});

t.test('ackBeforePersist: a follower acks an append before its write completes (and only with the switch)', (t) => {
  for (const on of [false, true]) {
    const { c, followers, index } = appendsDelivered(on ? { ackBeforePersist: true } : undefined);
    for (const f of followers) {
      t.ok(
        c.writes.get(f)!.some((job) => job.kind === 'persist' && job.entries.some((e) => e.index === index)),
        `node ${f} is writing the entry`,
      );
      const acked = c.network.some((m) => m.type === 'append-resp' && m.from === f && !m.reject && m.index >= index);
      t.equal(acked, on, `switch ${on ? 'on' : 'off'}: node ${f} ${on ? 'acked' : 'did not ack'} before its write completed`);
      t.equal(c.storages.get(f)!.lastIndex() < index, true, `node ${f} has not stored the entry`);
    }
  }
  t.end();
});

t.test('applyUncommitted: entries are applied (and proposals answered) before they commit (and only with the switch)', (t) => {
  for (const on of [false, true]) {
    const { c, leader, followers, index, w } = appendsDelivered(on ? { applyUncommitted: true } : undefined);
    t.ok(c.kernel(leader).raft.status().commit < index, 'the entry is not committed: no follower acked it yet');
    t.equal(
      w.answers.length,
      on ? 1 : 0,
      `switch ${on ? 'on' : 'off'}: the proposal ${on ? 'was' : 'was not'} answered before it committed`,
    );
    t.equal(c.kernel(leader).readLocal('k'), on ? 'v' : null, 'the leader applied it only with the switch');
    for (const f of followers) {
      t.equal(c.kernel(f).appliedIndex >= index, on, `node ${f} applied it before it committed only with the switch`);
    }
    c.settle();
    c.tickAll();
    c.settle();
    for (const [id, k] of c.kernels) t.equal(k.readLocal('k'), 'v', `node ${id} ends with it applied once committed`);
  }
  t.end();
});

t.test('answerReplacedEntry: a proposal whose entry was replaced gets the replacing entry result (and only with the switch)', (t) => {
  const entry = (index: number, term: number) => ({ index, term, type: 'normal' as const, data: new Uint8Array([1]) });
  for (const on of [false, true]) {
    const proposals = new Proposals({ matchIndexOnly: on });
    const answers: Answer<KvResult>[] = [];
    const p: PendingProposal = { index: 5, term: 2, deadlineTick: 100, settled: false, reply: (a) => void answers.push(a) };
    proposals.add(p);
    proposals.applied(entry(5, 3), { type: 'ok', value: 'x' }); // another leader's entry took index 5
    t.equal(answers.length, 1);
    if (on) t.same(answers[0], { ok: true, value: { type: 'ok', value: 'x' } }, 'on: answered with the other entry result');
    else t.ok(!answers[0]!.ok && answers[0]!.error.code === 'PROPOSAL_DROPPED', 'off: dropped, definite');
  }
  t.end();
});

t.test('ackBeforePersist: a crash loses an entry the leader committed and answered, and a node without it wins the next election', (t) => {
  for (const on of [false, true]) {
    const c = new KernelCluster({ size: 3, seed: 12, ...(on ? { unsafe: { ackBeforePersist: true } } : {}) });
    const leader = c.elect();
    const [a, b] = [1, 2, 3].filter((id) => id !== leader) as [NodeId, NodeId];
    const w = collector<KvResult>();
    c.kernel(leader).propose(put('k', 'v'), w.reply);
    const { lastIndex: index, term } = c.kernel(leader).raft.status();
    c.completeWrites(leader);
    // Only `a` hears of the entry; it starts writing it and (with the switch) acks at once.
    const toA = c.network.filter((m) => m.to === a && m.type === 'append');
    c.network = [];
    for (const m of toA) c.kernel(a).step(m);
    const fromA = c.network.filter((m) => m.from === a);
    c.network = [];
    for (const m of fromA) c.kernel(leader).step(m);
    const committed = c.kernel(leader).raft.status().commit >= index;
    t.equal(committed, on, `switch ${on ? 'on' : 'off'}: the leader ${on ? 'committed' : 'did not commit'} the entry on a's ack`);
    t.equal(w.answers.length > 0 && w.answers[0]!.ok, on, `and ${on ? 'answered' : 'did not answer'} the write`);
    // `a` dies before its write completes: the entry it acked is gone. The leader is cut off.
    c.crashAndRestart(a);
    c.network = [];
    const pair = new Set([a, b]);
    let next: NodeId | null = null;
    for (let tick = 0; tick < 300 && next === null; tick++) {
      for (const id of pair) c.kernel(id).tick();
      for (let round = 0; round < 50; round++) {
        for (const id of pair) c.completeWrites(id);
        const batch = c.network.filter((m) => pair.has(m.from) && pair.has(m.to));
        c.network = [];
        if (batch.length === 0) break;
        for (const m of batch) c.kernel(m.to).step(m);
      }
      next = [...pair].find((id) => c.kernel(id).raft.status().role === 'leader') ?? null;
    }
    t.ok(next !== null, 'a and b elect a leader without the old one');
    if (next === null) continue;
    const [held] = c.kernel(next).raft.entries(index, Math.min(index + 1, c.kernel(next).raft.status().lastIndex + 1));
    t.ok(held === undefined || held.term !== term, `the new leader ${next} lacks entry ${index} of term ${term}`);
    if (on) t.ok(committed, 'which was committed and answered ok: leader completeness is broken');
  }
  t.end();
});

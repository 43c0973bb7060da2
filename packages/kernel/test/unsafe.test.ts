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
      t.ok(c.writes.get(f)!.some((job) => job.kind === 'persist' && job.entries.some((e) => e.index === index)), `node ${f} is writing the entry`);
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
    t.equal(w.answers.length, on ? 1 : 0, `switch ${on ? 'on' : 'off'}: the proposal ${on ? 'was' : 'was not'} answered before it committed`);
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

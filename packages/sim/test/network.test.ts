import t from 'tap';
import type { Message } from '@kvapp/core';
import { CLIENT_ENDPOINT_BASE, VirtualNetwork, type Envelope } from '../src/network.js';
import { SimRng } from '../src/rng.js';

const clean = { dropPct: 0, duplicatePct: 0, delayMsMin: 1, delayMsMax: 5 };
const heartbeat = (from: number, to: number): Message => ({
  type: 'heartbeat',
  from,
  to,
  term: 1,
  logTerm: 0,
  index: 0,
  entries: [],
  commit: 0,
  reject: false,
  rejectHint: 0,
  hintTerm: 0,
  context: null,
  snapshot: null,
});
const env = (from: number, to: number): Envelope => ({ from, to, payload: { kind: 'raft', message: heartbeat(from, to) } });

function drain(net: VirtualNetwork, untilMs: number): Envelope[] {
  const out: Envelope[] = [];
  for (let ms = 0; ms <= untilMs; ms++) out.push(...net.take(ms));
  return out;
}

t.test('messages arrive within the delay bounds, reordered', async (t) => {
  const net = new VirtualNetwork(new SimRng(3), clean, 1000);
  for (let i = 0; i < 50; i++) net.send(env(1, 2), 0);
  let arrived = 0;
  for (let ms = 0; ms <= 5; ms++) {
    const due = net.take(ms);
    if (ms === 0) t.equal(due.length, 0, 'nothing arrives instantly');
    arrived += due.length;
  }
  t.equal(arrived, 50, 'all arrive by the maximum delay');
  t.equal(net.inFlight, 0);
});

t.test('a one-way cut drops one direction only, also for messages already in flight', async (t) => {
  const net = new VirtualNetwork(new SimRng(4), clean, 1000);
  net.send(env(1, 2), 0);
  net.cut(1, 2);
  net.send(env(1, 2), 0);
  net.send(env(2, 1), 0);
  const got = drain(net, 10);
  t.equal(got.length, 1, 'only 2->1 arrives');
  t.equal(got[0]!.from, 2);
  t.equal(net.stats.cut, 2);
  net.heal(1, 2);
  net.send(env(1, 2), 20);
  t.equal(drain(net, 30).length, 1, 'healed');
});

t.test('cuts nest, and clients are never cut', async (t) => {
  const net = new VirtualNetwork(new SimRng(5), clean, 1000);
  net.cut(1, 2);
  net.cut(1, 2);
  net.heal(1, 2);
  t.ok(net.isCut(1, 2), 'still cut by the other partition');
  net.heal(1, 2);
  t.notOk(net.isCut(1, 2));
  net.cut(1, CLIENT_ENDPOINT_BASE);
  t.notOk(net.isCut(1, CLIENT_ENDPOINT_BASE));
});

t.test('drop, duplicate and the in-flight bound', async (t) => {
  const lossy = new VirtualNetwork(new SimRng(6), { ...clean, dropPct: 100 }, 1000);
  lossy.send(env(1, 2), 0);
  t.equal(drain(lossy, 10).length, 0, 'dropped');
  const dup = new VirtualNetwork(new SimRng(7), { ...clean, duplicatePct: 100 }, 1000);
  dup.send(env(1, 2), 0);
  t.equal(drain(dup, 10).length, 2, 'duplicated');
  const small = new VirtualNetwork(new SimRng(8), clean, 3);
  for (let i = 0; i < 5; i++) small.send(env(1, 2), 0);
  t.equal(small.inFlight, 3);
  t.equal(small.stats.overflowed, 2);
});

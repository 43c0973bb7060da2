import t from 'tap';
import fc from 'fast-check';
import type { Entry } from '../../src/raft/types.js';
import { decodeCommand as decodeForTest, encodeCommand, type KvCommand } from '../../src/kv/command.js';
import type { KvResult } from '../../src/kv/result.js';
import { KvStateMachine } from '../../src/kv/state-machine.js';
import { encodeConfChange } from '../../src/raft/conf-change.js';
import { buildLog, stepArb } from './log-builder.js';
import { checkProperty } from './property.js';

type Cmd = KvCommand;

/** Feeds commands (or raw entries) to a state machine at consecutive indexes. */
class Feeder {
  constructor(readonly sm: KvStateMachine) {}
  raw(type: Entry['type'], data: Uint8Array): KvResult | null {
    return this.sm.apply({ term: 1, index: this.sm.appliedIndex + 1, type, data });
  }
  cmd(c: Cmd): KvResult | null {
    return this.raw('normal', encodeCommand(c));
  }
  register(nowMs = 0): string {
    const r = this.cmd({ kind: 'register', nowMs });
    if (r?.type !== 'registered') throw new Error(`register answered ${JSON.stringify(r)}`);
    return r.clientId;
  }
}

const put = (key: string, value: string, session: { clientId: string; seq: number } | null = null, nowMs = 0): Cmd => ({
  kind: 'put',
  nowMs,
  session,
  key,
  value,
});
const get = (key: string, session: { clientId: string; seq: number } | null = null, nowMs = 0): Cmd => ({
  kind: 'get',
  nowMs,
  session,
  key,
});

t.test('put, get, delete answer the previous/current value', (t) => {
  const f = new Feeder(new KvStateMachine());
  t.strictSame(f.cmd(get('a')), { type: 'ok', value: null });
  t.strictSame(f.cmd(put('a', '1')), { type: 'ok', value: null });
  t.strictSame(f.cmd(put('a', '2')), { type: 'ok', value: '1' });
  t.strictSame(f.cmd(get('a')), { type: 'ok', value: '2' });
  t.equal(f.sm.read('a'), '2');
  t.strictSame(f.cmd({ kind: 'delete', nowMs: 0, session: null, key: 'a' }), { type: 'ok', value: '2' });
  t.strictSame(f.cmd({ kind: 'delete', nowMs: 0, session: null, key: 'a' }), { type: 'ok', value: null });
  t.equal(f.sm.read('a'), null);
  t.equal(f.sm.appliedIndex, 6);
  t.end();
});

t.test('cas: match, mismatch, only-if-absent', (t) => {
  const f = new Feeder(new KvStateMachine());
  const cas = (expected: string | null, value: string): Cmd => ({ kind: 'cas', nowMs: 0, session: null, key: 'k', expected, value });
  t.strictSame(f.cmd(cas('x', 'y')), { type: 'cas-mismatch', current: null });
  t.equal(f.sm.read('k'), null);
  t.strictSame(f.cmd(cas(null, 'a')), { type: 'ok', value: null });
  t.strictSame(f.cmd(cas(null, 'b')), { type: 'cas-mismatch', current: 'a' });
  t.strictSame(f.cmd(cas('a', 'b')), { type: 'ok', value: 'a' });
  t.strictSame(f.cmd(cas('a', 'c')), { type: 'cas-mismatch', current: 'b' });
  t.equal(f.sm.read('k'), 'b');
  t.end();
});

t.test('no-op and conf-change entries return null and still advance appliedIndex', (t) => {
  const f = new Feeder(new KvStateMachine());
  t.equal(f.raw('normal', new Uint8Array(0)), null);
  t.equal(f.raw('conf-change', Uint8Array.of(1, 2, 3)), null);
  t.equal(f.sm.appliedIndex, 2);
  t.end();
});

t.test('members added with addresses are kept, survive a snapshot, and go when a configuration drops them', (t) => {
  const f = new Feeder(new KvStateMachine());
  const add = (node: number, peer: string): Uint8Array =>
    encodeConfChange({
      change: { kind: 'simple', action: 'add-learner', node, addresses: { peer, client: `c${node}` } },
      conf: { voters: [1, 2, 3], learners: node === 4 ? [4] : [4, 5], votersOutgoing: [] },
    });
  f.raw('conf-change', add(4, 'p4'));
  f.raw('conf-change', add(5, 'p5'));
  t.same(
    [...f.sm.memberAddresses.entries()],
    [
      [4, { peer: 'p4', client: 'c4' }],
      [5, { peer: 'p5', client: 'c5' }],
    ],
  );
  const restored = KvStateMachine.restore(f.sm.snapshot());
  t.same([...restored.memberAddresses.entries()], [...f.sm.memberAddresses.entries()], 'a snapshot carries them');
  f.raw(
    'conf-change',
    encodeConfChange({
      change: { kind: 'simple', action: 'remove', node: 4 },
      conf: { voters: [1, 2, 3], learners: [5], votersOutgoing: [] },
    }),
  );
  t.same([...f.sm.memberAddresses.keys()], [5], 'the removed member is forgotten');
  t.end();
});

t.test('apply out of order is a programmer error', (t) => {
  const sm = new KvStateMachine();
  t.throws(() => sm.apply({ term: 1, index: 2, type: 'normal', data: new Uint8Array(0) }), { name: 'AssertionError' });
  t.end();
});

t.test('malformed command data is answered rejected KV_BAD_COMMAND, not thrown', (t) => {
  const f = new Feeder(new KvStateMachine());
  const r = f.raw('normal', Uint8Array.of(0xff, 0xfe));
  t.equal(r?.type, 'rejected');
  t.equal(r?.type === 'rejected' && r.code, 'KV_BAD_COMMAND');
  t.equal(f.sm.appliedIndex, 1);
  t.end();
});

t.test('a retried command applies once and returns its first result', (t) => {
  const f = new Feeder(new KvStateMachine());
  const c = f.register();
  t.equal(c, '1', 'client id is the register entry index');
  const first = f.cmd(put('k', 'v1', { clientId: c, seq: 1 }));
  t.strictSame(first, { type: 'ok', value: null });
  f.cmd(put('k', 'other'));
  const retry = f.cmd(put('k', 'v1', { clientId: c, seq: 1 }));
  t.strictSame(retry, first, 'the retry gets the first answer');
  t.equal(f.sm.read('k'), 'other', 'the retry did not write again');
  t.strictSame(f.cmd(put('k', 'v2', { clientId: c, seq: 2 })), { type: 'ok', value: 'other' });
  t.end();
});

t.test('a retried cas that mismatched stays a mismatch even when it would now match', (t) => {
  const f = new Feeder(new KvStateMachine());
  const c = f.register();
  const cas: Cmd = { kind: 'cas', nowMs: 0, session: { clientId: c, seq: 1 }, key: 'k', expected: 'a', value: 'b' };
  t.strictSame(f.cmd(cas), { type: 'cas-mismatch', current: null });
  f.cmd(put('k', 'a'));
  t.strictSame(f.cmd(cas), { type: 'cas-mismatch', current: null });
  t.equal(f.sm.read('k'), 'a');
  t.end();
});

t.test('a seq below the last one is stale and changes nothing; seqs may skip', (t) => {
  const f = new Feeder(new KvStateMachine());
  const c = f.register();
  f.cmd(put('k', 'a', { clientId: c, seq: 1 }));
  t.strictSame(f.cmd(put('k', 'c', { clientId: c, seq: 3 })), { type: 'ok', value: 'a' });
  t.strictSame(f.cmd(put('k', 'b', { clientId: c, seq: 2 })), { type: 'stale-seq', lastSeq: 3 });
  t.equal(f.sm.read('k'), 'c');
  t.end();
});

t.test('an unknown client id is an expired session and changes nothing', (t) => {
  const f = new Feeder(new KvStateMachine());
  t.strictSame(f.cmd(put('k', 'v', { clientId: 'never-registered', seq: 1 })), { type: 'session-expired' });
  t.equal(f.sm.read('k'), null);
  t.end();
});

t.test('sessions expire by the log clock after sessionIdleMsMax', (t) => {
  const f = new Feeder(new KvStateMachine({ sessionIdleMsMax: 100 }));
  const a = f.register(1000);
  const b = f.register(1000);
  t.strictSame(f.cmd(put('k', '1', { clientId: a, seq: 1 }, 1100)), { type: 'ok', value: null }, 'idle exactly 100: alive');
  t.strictSame(f.cmd(get('k', null, 1101)), { type: 'ok', value: '1' });
  t.equal(f.sm.sessionCount, 1, 'b idle 101ms: expired by an unrelated entry');
  t.strictSame(f.cmd(get('k', { clientId: b, seq: 1 }, 1101)), { type: 'session-expired' });
  t.strictSame(f.cmd(put('k', '1', { clientId: a, seq: 1 }, 1150)), { type: 'ok', value: null }, 'a was used at 1100');
  t.end();
});

t.test('the log clock is a max: an entry stamped earlier does not turn it back', (t) => {
  const f = new Feeder(new KvStateMachine({ sessionIdleMsMax: 100 }));
  const a = f.register(0);
  f.cmd(get('x', null, 500));
  t.equal(f.sm.clockMs, 500);
  t.strictSame(f.cmd(get('x', { clientId: a, seq: 1 }, 50)), { type: 'session-expired' });
  t.equal(f.sm.clockMs, 500);
  t.end();
});

t.test('a full table evicts the least recently used session', (t) => {
  const f = new Feeder(new KvStateMachine({ sessionsMax: 2 }));
  const a = f.register();
  const b = f.register();
  f.cmd(get('k', { clientId: a, seq: 1 })); // a is now more recent than b
  const c = f.register();
  t.equal(f.sm.sessionCount, 2);
  t.strictSame(f.cmd(get('k', { clientId: b, seq: 1 })), { type: 'session-expired' }, 'b was the LRU');
  t.strictSame(f.cmd(get('k', { clientId: a, seq: 1 })), { type: 'ok', value: null }, 'a kept (cached answer)');
  t.strictSame(f.cmd(get('k', { clientId: c, seq: 1 })), { type: 'ok', value: null });
  t.end();
});

t.test('key and value bounds give rejected results, cached per session', (t) => {
  const f = new Feeder(new KvStateMachine({ keyBytesMax: 4, valueBytesMax: 3 }));
  const c = f.register();
  const r1 = f.cmd(put('éé€', 'v'));
  t.match(r1, { type: 'rejected', code: 'KV_KEY_TOO_LARGE' }, '7 UTF-8 bytes');
  t.match(f.cmd(put('k', '€€')), { type: 'rejected', code: 'KV_VALUE_TOO_LARGE' });
  t.match(f.cmd({ kind: 'cas', nowMs: 0, session: null, key: 'k', expected: 'long', value: 'v' }), {
    type: 'rejected',
    code: 'KV_VALUE_TOO_LARGE',
  });
  t.strictSame(f.cmd(put('abcd', 'xyz')), { type: 'ok', value: null }, 'exactly at the bounds');
  const r2 = f.cmd(put('k', 'long', { clientId: c, seq: 1 }));
  t.match(r2, { type: 'rejected', code: 'KV_VALUE_TOO_LARGE' });
  t.strictSame(f.cmd(put('k', 'long', { clientId: c, seq: 1 })), r2);
  t.equal(f.sm.read('k'), null);
  t.end();
});

t.test('invalid options are a programmer error', (t) => {
  t.throws(() => new KvStateMachine({ sessionsMax: 0 }), /sessionsMax/);
  t.end();
});

// ---- The determinism property ----

const smallOptions = { sessionsMax: 3, sessionIdleMsMax: 200 };

t.test('property: replicas fed the same entries agree on state and every result, across expiry, eviction and restore', async (t) => {
  await checkProperty(
    t,
    'replicas fed the same log agree (including one restored from a snapshot mid-log)',
    fc.property(fc.array(stepArb, { maxLength: 120 }), fc.nat(), (steps, cutAt) => {
      const log = buildLog(steps);
      const a = new KvStateMachine(smallOptions);
      const b = new KvStateMachine(smallOptions);
      const cut = log.length === 0 ? 0 : cutAt % (log.length + 1);
      let c: KvStateMachine | null = null;
      if (cut === 0) c = KvStateMachine.restore(new KvStateMachine(smallOptions).snapshot());
      for (const e of log) {
        const ra = a.apply(e);
        const rb = b.apply(e);
        if (JSON.stringify(ra) !== JSON.stringify(rb)) return false;
        if (c !== null && JSON.stringify(c.apply(e)) !== JSON.stringify(ra)) return false;
        if (e.index === cut) c = KvStateMachine.restore(a.snapshot());
        if (a.sessionCount > smallOptions.sessionsMax) return false;
      }
      const sa = Buffer.from(a.snapshot());
      return sa.equals(Buffer.from(b.snapshot())) && c !== null && sa.equals(Buffer.from(c.snapshot()));
    }),
    { numRuns: 300 },
  );
});

t.test('property: every answer to a given (client, seq) that applied is the first answer', async (t) => {
  await checkProperty(
    t,
    'a retried command applies once and returns its first result',
    fc.property(fc.array(stepArb, { maxLength: 120 }), (steps) => {
      const log = buildLog(steps);
      const sm = new KvStateMachine(smallOptions);
      const first = new Map<string, string>();
      for (const e of log) {
        const r = sm.apply(e);
        if (r === null || r.type === 'session-expired' || r.type === 'stale-seq' || e.data.length === 0) continue;
        let cmd: KvCommand;
        try {
          cmd = JSON.parse(JSON.stringify(decodeForTest(e.data)));
        } catch {
          continue;
        }
        if (cmd.kind === 'register' || cmd.session === null) continue;
        const id = `${cmd.session.clientId}/${cmd.session.seq}`;
        const prev = first.get(id);
        if (prev === undefined) first.set(id, JSON.stringify(r));
        else if (prev !== JSON.stringify(r)) return false;
      }
      return true;
    }),
    { numRuns: 300 },
  );
});

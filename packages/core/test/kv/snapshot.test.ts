import t from 'tap';
import fc from 'fast-check';
import { encodeSnapshot, KvSnapshotError, type KvSnapshotState } from '../../src/kv/snapshot.js';
import { kvOptionsDefault } from '../../src/kv/options.js';
import { KvStateMachine } from '../../src/kv/state-machine.js';
import { buildLog, stepArb } from './log-builder.js';
import { checkProperty } from './property.js';

const options = { keyBytesMax: 16, valueBytesMax: 16, sessionsMax: 3, sessionIdleMsMax: 200 };

function stateAfter(steps: Parameters<typeof buildLog>[0]): KvStateMachine {
  const sm = new KvStateMachine(options);
  for (const e of buildLog(steps)) sm.apply(e);
  return sm;
}

t.test('property: restore(snapshot(s)) has the same state, the same bytes, and answers alike', async (t) => {
  await checkProperty(
    t,
    'snapshot/restore round trip',
    fc.property(fc.array(stepArb, { maxLength: 80 }), fc.array(stepArb, { maxLength: 30 }), (before, after) => {
      const sm = stateAfter(before);
      const bytes = sm.snapshot();
      const back = KvStateMachine.restore(bytes);
      if (!Buffer.from(back.snapshot()).equals(Buffer.from(bytes))) return false;
      if (back.appliedIndex !== sm.appliedIndex || back.clockMs !== sm.clockMs) return false;
      if (JSON.stringify(back.options) !== JSON.stringify(sm.options)) return false;
      for (let k = 0; k < 4; k++) if (back.read(`k${k}`) !== sm.read(`k${k}`)) return false;
      // Continue both with the tail of a longer log; indexes shift past appliedIndex.
      for (const e of buildLog([...before, ...after]).slice(sm.appliedIndex)) {
        if (JSON.stringify(sm.apply(e)) !== JSON.stringify(back.apply(e))) return false;
      }
      return true;
    }),
    { numRuns: 300 },
  );
});

t.test('property: garbage and mutated snapshots throw KV_BAD_SNAPSHOT or decode to a canonical snapshot', async (t) => {
  const mutated = fc.tuple(fc.array(stepArb, { maxLength: 40 }), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([steps, at, x]) => {
    const b = stateAfter(steps).snapshot().slice();
    b[at % b.length]! ^= x;
    return b;
  });
  await checkProperty(
    t,
    'snapshot decoding never escapes as an untyped error',
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated), (bytes) => {
      try {
        const sm = KvStateMachine.restore(bytes);
        return Buffer.from(sm.snapshot()).equals(Buffer.from(bytes));
      } catch (err) {
        return err instanceof KvSnapshotError && err.code === 'KV_BAD_SNAPSHOT';
      }
    }),
    { numRuns: 1000 },
  );
});

const base: KvSnapshotState = {
  appliedIndex: 3,
  clockMs: 100,
  options: kvOptionsDefault,
  data: [
    ['a', '1'],
    ['b', '2'],
  ],
  sessions: [
    { clientId: '1', lastSeq: 0, lastActiveMs: 50, result: null },
    { clientId: '2', lastSeq: 1, lastActiveMs: 60, result: { type: 'ok', value: null } },
  ],
  members: [
    [4, { peer: '127.0.0.1:7004', client: '127.0.0.1:8004' }],
    [5, { peer: '127.0.0.1:7005', client: '127.0.0.1:8005' }],
  ],
};

t.test('a valid hand-built snapshot restores', (t) => {
  const sm = KvStateMachine.restore(encodeSnapshot(base));
  t.equal(sm.read('b'), '2');
  t.equal(sm.sessionCount, 2);
  t.equal(sm.appliedIndex, 3);
  t.same([...sm.memberAddresses.entries()], base.members);
  t.end();
});

t.test('with no member addresses the snapshot is version 1, which an earlier release reads; with some, version 2', (t) => {
  const v1 = encodeSnapshot({ ...base, members: [] });
  t.equal(v1[3], 1, 'version 1');
  const sm = KvStateMachine.restore(v1);
  t.equal(sm.read('a'), '1');
  t.equal(sm.memberAddresses.size, 0);
  t.equal(encodeSnapshot(base)[3], 2, 'version 2 once members are kept');
  t.end();
});

t.test('inconsistent snapshots are refused with KV_BAD_SNAPSHOT', (t) => {
  const bad: Record<string, Uint8Array> = {
    'keys out of order': encodeSnapshot({
      ...base,
      data: [
        ['b', '2'],
        ['a', '1'],
      ],
    }),
    'duplicate key': encodeSnapshot({
      ...base,
      data: [
        ['a', '1'],
        ['a', '2'],
      ],
    }),
    'duplicate session': encodeSnapshot({ ...base, sessions: [base.sessions[1]!, base.sessions[1]!] }),
    'sessions out of use order': encodeSnapshot({ ...base, sessions: [base.sessions[1]!, base.sessions[0]!] }),
    'session used after the clock': encodeSnapshot({ ...base, clockMs: 55 }),
    'seq without result': encodeSnapshot({ ...base, sessions: [{ clientId: '1', lastSeq: 2, lastActiveMs: 1, result: null }] }),
    'too many sessions': encodeSnapshot({ ...base, options: { ...kvOptionsDefault, sessionsMax: 1 } }),
    'key beyond keyBytesMax': encodeSnapshot({ ...base, options: { ...kvOptionsDefault, keyBytesMax: 1 }, data: [['ab', '1']] }),
    'zero limit': encodeSnapshot({ ...base, options: { ...kvOptionsDefault, valueBytesMax: 0 } }),
    'bad magic': Uint8Array.of(0x4b, 0x56, 0x00, 1),
    'future version': Uint8Array.of(0x4b, 0x56, 0x53, 3),
    'members out of order': encodeSnapshot({ ...base, members: [base.members[1]!, base.members[0]!] }),
    'member count lie': (() => {
      const v2 = encodeSnapshot(base);
      // The count of the two members sits right before them: 2 × (id, two 14-byte strings) = 2 × 31 bytes.
      const at = v2.length - 2 * 31 - 1;
      return Uint8Array.of(...v2.subarray(0, at), 0x7f, ...v2.subarray(at + 1));
    })(),
    'trailing byte': Uint8Array.of(...encodeSnapshot(base), 0),
    'key count lie': Uint8Array.of(0x4b, 0x56, 0x53, 1, 0, 0, 1, 1, 1, 0, 0x7f),
  };
  for (const [name, bytes] of Object.entries(bad)) t.throws(() => KvStateMachine.restore(bytes), { code: 'KV_BAD_SNAPSHOT' }, name);
  t.end();
});

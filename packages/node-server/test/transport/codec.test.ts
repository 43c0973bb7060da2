import assert from 'node:assert/strict';
import t from 'tap';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import type { Entry, Message, MessageType } from '@kvapp/core';
import { CODEC_VERSION, decodeMessage, encodeMessage, encodeMessageParts } from '../../src/transport/codec.js';
import { TransportError } from '../../src/transport/errors.js';
import { fcSeed, message } from './support.js';

const types: MessageType[] = [
  'append',
  'append-resp',
  'heartbeat',
  'heartbeat-resp',
  'vote',
  'vote-resp',
  'pre-vote',
  'pre-vote-resp',
  'snapshot',
  'timeout-now',
  'read-index',
  'read-index-resp',
];
const uint = fc.maxSafeNat();
const id = fc.integer({ min: 1, max: 1000 });
const bytes = fc.uint8Array({ maxLength: 64 });
const entry: fc.Arbitrary<Entry> = fc.record(
  { term: uint, index: uint, type: fc.constantFrom('normal' as const, 'conf-change' as const), data: bytes },
  { noNullPrototype: true },
);
const arbMessage: fc.Arbitrary<Message> = fc.record(
  {
    type: fc.constantFrom(...types),
    from: id,
    to: id,
    term: uint,
    logTerm: uint,
    index: uint,
    entries: fc.array(entry, { maxLength: 5 }),
    commit: uint,
    reject: fc.boolean(),
    rejectHint: uint,
    hintTerm: uint,
    context: fc.option(bytes, { nil: null }),
    snapshot: fc.option(
      fc.record(
        {
          meta: fc.record(
            {
              index: uint,
              term: uint,
              conf: fc.record({ voters: fc.array(id), learners: fc.array(id), votersOutgoing: fc.array(id) }, { noNullPrototype: true }),
            },
            { noNullPrototype: true },
          ),
          data: bytes,
        },
        { noNullPrototype: true },
      ),
      { nil: null },
    ),
  },
  { noNullPrototype: true },
);

function badFrame(t: Tap, frame: Uint8Array, what: string): void {
  let code: string | null = null;
  try {
    decodeMessage(frame);
  } catch (e) {
    code = e instanceof TransportError ? e.code : `other error: ${String(e)}`;
  }
  t.equal(code, 'TRANSPORT_BAD_FRAME', what);
}
type Tap = typeof t;

t.test('round trip: decode(encode(m)) equals m, byte payloads stay Uint8Array', async (t) => {
  const seed = fcSeed();
  t.comment(`fast-check seed ${seed} (replay with FC_SEED=${seed})`);
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(arbMessage, (m) => {
        const back = decodeMessage(encodeMessage(m));
        assert.deepStrictEqual(back, m);
        for (const e of back.entries) if (!(e.data instanceof Uint8Array)) throw new Error('entry data lost its type');
        if (back.context !== null && !(back.context instanceof Uint8Array)) throw new Error('context lost its type');
      }),
      { seed, numRuns: 300 },
    ),
  );
});

t.test("encodeMessageParts: the parts join into encodeMessage, and a snapshot's data is a part, not a copy", async (t) => {
  const seed = fcSeed();
  t.comment(`fast-check seed ${seed} (replay with FC_SEED=${seed})`);
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(arbMessage, (m) => {
        const parts = encodeMessageParts(m);
        assert.deepStrictEqual(Buffer.concat(parts), Buffer.from(encodeMessage(m)));
        if (m.snapshot !== null && m.snapshot.data.length >= 65_536) assert.strictEqual(parts[1], m.snapshot.data);
        else assert.strictEqual(parts.length, 1);
      }),
      { seed, numRuns: 300 },
    ),
  );
  // Above 64 KiB msgpack itself writes bin32: the widened header must match it byte for byte.
  const big = message(1, 2, {
    type: 'snapshot',
    snapshot: {
      meta: { index: 9, term: 2, conf: { voters: [1, 2], learners: [], votersOutgoing: [] } },
      data: new Uint8Array(70_000).fill(7),
    },
  });
  const parts = encodeMessageParts(big);
  t.equal(parts[1], big.snapshot!.data, 'the data is a part of its own');
  t.same(Buffer.concat(parts), Buffer.from(encodeMessage(big)));
  t.same(decodeMessage(Buffer.concat(encodeMessageParts(big))), big);
});

t.test('payload bytes survive exactly, as plain Uint8Array copies', async (t) => {
  const data = new Uint8Array([0, 255, 1, 128, 7]);
  const m = message(1, 2, { entries: [{ term: 1, index: 1, type: 'normal', data }], context: new Uint8Array([9, 9]) });
  const frame = encodeMessage(m);
  const back = decodeMessage(frame);
  t.strictSame([...back.entries[0]!.data], [0, 255, 1, 128, 7]);
  t.ok(back.entries[0]!.data instanceof Uint8Array);
  frame.fill(0); // the decoded message must not alias the frame
  t.strictSame([...back.entries[0]!.data], [0, 255, 1, 128, 7]);
  t.strictSame([...back.context!], [9, 9]);
});

t.test('malformed frames throw TRANSPORT_BAD_FRAME', async (t) => {
  const packr = new Packr({ useRecords: false });
  const good = packr.unpack(encodeMessage(message(1, 2))) as unknown[];
  const variant = (i: number, v: unknown) => packr.pack(good.map((x, j) => (j === i ? v : x)));
  badFrame(t, new Uint8Array([]), 'empty');
  badFrame(t, new Uint8Array([0xc1]), 'never-used msgpack byte');
  badFrame(t, packr.pack({ type: 'append' }), 'a map, not the positional array');
  badFrame(t, packr.pack(good.slice(0, 13)), 'too few fields');
  badFrame(t, variant(0, CODEC_VERSION + 1), 'unknown version');
  badFrame(t, variant(1, 12), 'unknown message type');
  badFrame(t, variant(4, -1), 'negative term');
  badFrame(t, variant(4, 1.5), 'fractional term');
  badFrame(t, variant(4, '1'), 'string term');
  badFrame(t, variant(8, 0), 'reject not a boolean');
  badFrame(t, variant(11, 'ctx'), 'context not bytes');
  badFrame(t, variant(12, [[1, 1, 0, 'data']]), 'entry data not bytes');
  badFrame(t, variant(12, [[1, 1, 2, new Uint8Array()]]), 'unknown entry type');
  badFrame(t, variant(13, [1, 1, [], [], []]), 'snapshot too short');
  const frame = encodeMessage(message(1, 2));
  const trailing = new Uint8Array(frame.length + 1);
  trailing.set(frame);
  badFrame(t, trailing, 'trailing byte');
  badFrame(t, frame.subarray(0, frame.length - 1), 'truncated');
});

t.test('decoding random bytes throws only TransportError', async (t) => {
  const seed = fcSeed();
  t.comment(`fast-check seed ${seed} (replay with FC_SEED=${seed})`);
  const valid = encodeMessage(message(1, 2, { entries: [{ term: 1, index: 1, type: 'normal', data: new Uint8Array([1]) }] }));
  const mutated = fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
    const f = new Uint8Array(valid);
    f[i] = b;
    return f;
  });
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated), (frame) => {
        try {
          decodeMessage(frame);
        } catch (e) {
          if (!(e instanceof TransportError) || e.code !== 'TRANSPORT_BAD_FRAME') throw new Error(`unexpected ${String(e)}`, { cause: e });
        }
      }),
      { seed, numRuns: 2000 },
    ),
  );
});

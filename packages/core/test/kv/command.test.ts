import t from 'tap';
import fc from 'fast-check';
import { decodeCommand, encodeCommand, KvCommandError, type KvCommand } from '../../src/kv/command.js';
import { commandArb } from './arbitraries.js';
import { checkProperty } from './property.js';

t.test('each kind round-trips', (t) => {
  const cmds: KvCommand[] = [
    { kind: 'register', nowMs: 5 },
    { kind: 'get', nowMs: 0, session: null, key: 'k' },
    { kind: 'put', nowMs: 2 ** 40, session: { clientId: '7', seq: 3 }, key: 'k', value: 'v' },
    { kind: 'delete', nowMs: 1, session: null, key: '' },
    { kind: 'cas', nowMs: 1, session: null, key: 'k', expected: null, value: 'new' },
    { kind: 'cas', nowMs: 1, session: { clientId: 'x', seq: 1 }, key: 'k', expected: '', value: 'é😀' },
  ];
  for (const c of cmds) t.strictSame(decodeCommand(encodeCommand(c)), c, c.kind);
  t.end();
});

t.test('cas expected null and empty string stay distinct', (t) => {
  const a = encodeCommand({ kind: 'cas', nowMs: 1, session: null, key: 'k', expected: null, value: 'v' });
  const b = encodeCommand({ kind: 'cas', nowMs: 1, session: null, key: 'k', expected: '', value: 'v' });
  t.notSame(a, b);
  t.end();
});

t.test('a leading BOM survives', (t) => {
  const c: KvCommand = { kind: 'put', nowMs: 1, session: null, key: '\uFEFFk', value: '\uFEFF' };
  t.strictSame(decodeCommand(encodeCommand(c)), c);
  t.end();
});

t.test('encode refuses what cannot round-trip', (t) => {
  t.throws(() => encodeCommand({ kind: 'get', nowMs: 1, session: null, key: '\uD800' }), { code: 'KV_BAD_COMMAND' });
  t.throws(() => encodeCommand({ kind: 'get', nowMs: -1, session: null, key: 'k' }), { code: 'KV_BAD_COMMAND' });
  t.throws(() => encodeCommand({ kind: 'get', nowMs: 1.5, session: null, key: 'k' }), { code: 'KV_BAD_COMMAND' });
  t.throws(() => encodeCommand({ kind: 'get', nowMs: 1, session: { clientId: 'c', seq: 0 }, key: 'k' }), { code: 'KV_BAD_COMMAND' });
  t.end();
});

t.test('decode rejects specific malformations with KV_BAD_COMMAND', (t) => {
  const good = encodeCommand({ kind: 'put', nowMs: 300, session: { clientId: 'c', seq: 2 }, key: 'k', value: 'v' });
  const cases: Record<string, Uint8Array> = {
    empty: new Uint8Array(0),
    'bad version': Uint8Array.of(9, ...good.subarray(1)),
    'unknown kind': Uint8Array.of(1, 77, 0, 0),
    'unknown flag': Uint8Array.of(1, 1, 0x80, 0, 1, 0x6b),
    'expected flag on put': Uint8Array.of(1, 2, 2, 0, 1, 0x6b, 1, 0x76),
    'trailing byte': Uint8Array.of(...good, 0),
    truncated: good.subarray(0, good.length - 1),
    'overlong varint': Uint8Array.of(1, 1, 0, 0x80, 0x00, 1, 0x6b),
    'length past end': Uint8Array.of(1, 1, 0, 0, 50, 0x6b),
    'invalid utf-8': Uint8Array.of(1, 1, 0, 0, 1, 0xff),
    'seq zero': Uint8Array.of(1, 1, 1, 0, 1, 0x63, 0, 1, 0x6b),
  };
  for (const [name, bytes] of Object.entries(cases)) {
    t.throws(() => decodeCommand(bytes), KvCommandError, name);
  }
  t.end();
});

t.test('property: decode(encode(c)) equals c and re-encodes to the same bytes', async (t) => {
  await checkProperty(
    t,
    'command codec round trip',
    fc.property(commandArb, (c) => {
      const bytes = encodeCommand(c);
      const back = decodeCommand(bytes);
      return JSON.stringify(back) === JSON.stringify(c) && Buffer.from(encodeCommand(back)).equals(bytes);
    }),
  );
});

t.test('property: any byte string decodes to a command or throws KV_BAD_COMMAND, nothing else', async (t) => {
  const garbage = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    // Mutations of valid encodings reach deeper into the decoder than pure noise does.
    fc.tuple(commandArb, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([c, at, x]) => {
      const b = encodeCommand(c).slice();
      b[at % b.length]! ^= x;
      return b;
    }),
    fc.tuple(commandArb, fc.nat()).map(([c, cut]) => {
      const b = encodeCommand(c);
      return b.subarray(0, cut % b.length);
    }),
  );
  await checkProperty(
    t,
    'garbage never escapes as a non-typed error',
    fc.property(garbage, (bytes) => {
      try {
        const c = decodeCommand(bytes);
        // Accepted bytes must be canonical.
        return Buffer.from(encodeCommand(c)).equals(Buffer.from(bytes));
      } catch (err) {
        return err instanceof KvCommandError && err.code === 'KV_BAD_COMMAND';
      }
    }),
    { numRuns: 2000 },
  );
});

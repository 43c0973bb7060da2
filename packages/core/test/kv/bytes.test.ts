import t from 'tap';
import fc from 'fast-check';
import { ByteReader, ByteWriter, utf8Length } from '../../src/kv/bytes.js';

const encoder = new TextEncoder();

t.test('utf8Length is what TextEncoder makes, for any string (lone surrogates, pairs, ASCII)', async (t) => {
  const run = fc.check(
    fc.property(
      fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.string()),
      (s) => utf8Length(s) === encoder.encode(s).length,
    ),
    { numRuns: 2000, seed: 7 },
  );
  t.notOk(run.failed, run.counterexample ? fc.stringify(run.counterexample) : 'holds');
  for (const s of ['', 'a', 'é', '€', '😀', '\ud800', '\udc00x', 'a\ud83d\ude00b'])
    t.equal(utf8Length(s), encoder.encode(s).length, JSON.stringify(s));
});

t.test('strings written into the buffer read back, whatever the starting size', async (t) => {
  const run = fc.check(
    fc.property(fc.array(fc.string({ unit: 'grapheme' }), { maxLength: 20 }), fc.integer({ min: 1, max: 64 }), (strings, initial) => {
      const w = new ByteWriter(initial);
      for (const s of strings) w.string(s);
      const r = new ByteReader(w.finish(), (m) => new Error(m));
      return strings.every((s) => r.string('s') === s) && r.remaining === 0;
    }),
    { numRuns: 500, seed: 11 },
  );
  t.notOk(run.failed, run.counterexample ? fc.stringify(run.counterexample) : 'holds');
});

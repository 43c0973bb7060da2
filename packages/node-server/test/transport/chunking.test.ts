import t from 'tap';
import fc from 'fast-check';
import { ChunkAssembler, chunkFrames, isChunk, splitIntoChunks } from '../../src/transport/chunking.js';
import { fcSeed } from './support.js';

t.test('split then assembled gives back every byte, for any size and frame limit', async (t) => {
  const seed = fcSeed();
  const run = fc.check(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 5000 }), fc.integer({ min: 10, max: 2000 }), (message, frameBytesMax) => {
      const chunks = splitIntoChunks(message, frameBytesMax);
      if (!chunks.every((c) => c.length <= frameBytesMax && isChunk(c))) return false;
      const assembler = new ChunkAssembler(message.length);
      const results = chunks.map((c) => assembler.accept(c));
      const last = results.pop();
      return (
        results.every((r) => r === null) &&
        last !== null &&
        last !== undefined &&
        Buffer.compare(Buffer.from(last), Buffer.from(message)) === 0
      );
    }),
    { seed, numRuns: 300 },
  );
  t.notOk(run.failed, `seed ${seed}: ${run.counterexample ? fc.stringify(run.counterexample) : ''}`);
});

t.test('chunks of a message given in parts are the same frames, made of views of the parts (no copies)', async (t) => {
  const seed = fcSeed();
  const run = fc.check(
    fc.property(
      fc
        .array(fc.uint8Array({ minLength: 0, maxLength: 1500 }), { minLength: 1, maxLength: 4 })
        .filter((ps) => ps.some((p) => p.length > 0)),
      fc.integer({ min: 10, max: 2000 }),
      (parts, frameBytesMax) => {
        const whole = Buffer.concat(parts);
        const frames = chunkFrames(parts, frameBytesMax);
        const expected = splitIntoChunks(whole, frameBytesMax);
        if (frames.length !== expected.length) return false;
        return frames.every((fragments, i) => {
          const joined = Buffer.concat(fragments);
          const views = fragments.slice(1).every((f) => parts.some((p) => f.buffer === p.buffer));
          return joined.length <= frameBytesMax && Buffer.compare(joined, Buffer.from(expected[i]!)) === 0 && views;
        });
      },
    ),
    { seed, numRuns: 300 },
  );
  t.notOk(run.failed, `seed ${seed}: ${run.counterexample ? fc.stringify(run.counterexample) : ''}`);
});

t.test('malformed chunks are bad frames; out-of-place ones are discarded and counted', async (t) => {
  let discarded = 0;
  const a = new ChunkAssembler(100, () => discarded++);
  const chunks = splitIntoChunks(
    Uint8Array.from({ length: 50 }, (_, i) => i),
    20,
  );
  t.throws(() => a.accept(Uint8Array.of(0xc1, 0, 0)), { code: 'TRANSPORT_BAD_FRAME' }, 'too short');
  t.throws(() => a.accept(splitIntoChunks(new Uint8Array(101), 50)[0]!), { code: 'TRANSPORT_BAD_FRAME' }, 'announces more than the bound');
  const lying = Uint8Array.from(chunks[0]!);
  new DataView(lying.buffer).setUint32(1, 5); // total 5, but 11 bytes of payload
  t.throws(() => a.accept(lying), { code: 'TRANSPORT_BAD_FRAME' }, 'runs past its own total');
  t.equal(a.accept(chunks[1]!), null, 'a chunk with no message in assembly');
  t.equal(discarded, 1);
  t.equal(a.accept(chunks[0]!), null);
  t.equal(a.accept(chunks[2]!), null, 'a gap');
  t.equal(discarded, 2, 'the message with a gap is given up at once');
  a.abandon();
  t.equal(discarded, 2, 'so a whole message after it abandons nothing more');
  t.equal(a.accept(chunks[0]!), null);
  a.abandon();
  t.equal(discarded, 3, 'a whole message in the middle of a chunked one abandons it');
  const last = chunks.map((c) => a.accept(c)).pop();
  t.same(
    [...last!],
    Array.from({ length: 50 }, (_, i) => i),
    'and a complete one still assembles',
  );
});

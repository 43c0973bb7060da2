import t from 'tap';
import { encodeFrame, readFrame, RecordType, FRAME_HEADER_BYTES } from '../../src/wal/record.js';

const payload = Uint8Array.of(1, 2, 3, 4, 5);

t.test('a frame reads back with its type and payload', (t) => {
  const f = encodeFrame(42, RecordType.entry, payload);
  t.equal(f.length, FRAME_HEADER_BYTES + payload.length);
  const r = readFrame(f, 0, 42, 1024);
  t.equal(r.kind, 'ok');
  if (r.kind === 'ok') {
    t.equal(r.type, RecordType.entry);
    t.strictSame([...r.payload], [...payload]);
    t.equal(r.next, f.length);
  }
  t.end();
});

t.test('a different salt does not verify', (t) => {
  t.match(readFrame(encodeFrame(42, RecordType.entry, payload), 0, 43, 1024), { kind: 'corrupt', reason: /checksum/ });
  t.end();
});

t.test('every single-bit flip is detected', (t) => {
  const f = encodeFrame(7, RecordType.hardState, payload);
  let detected = 0;
  for (let bit = 0; bit < f.length * 8; bit++) {
    const g = f.slice();
    g[bit >> 3]! ^= 1 << (bit & 7);
    if (readFrame(g, 0, 7, 1024).kind !== 'ok') detected++;
  }
  t.equal(detected, f.length * 8);
  t.end();
});

t.test('short input is torn; an oversize length or unknown type is corrupt', (t) => {
  const f = encodeFrame(1, RecordType.entry, payload);
  t.match(readFrame(f.subarray(0, 4), 0, 1, 1024), { kind: 'torn' });
  t.match(readFrame(f.subarray(0, f.length - 1), 0, 1, 1024), { kind: 'torn' });
  t.match(readFrame(f, 0, 1, 4), { kind: 'corrupt', reason: /recordBytesMax/ });
  const g = f.slice();
  g[4] = 99;
  t.match(readFrame(g, 0, 1, 1024), { kind: 'corrupt', reason: /type 99/ });
  t.end();
});

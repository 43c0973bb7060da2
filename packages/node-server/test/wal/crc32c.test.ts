import t from 'tap';
import fc from 'fast-check';
import { crc32c } from '../../src/wal/crc32c.js';
import { checkProperty } from './property.js';

/** Bit-at-a-time reference: slow and obviously right. */
function crc32cBitwise(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

t.test('known check value and vectors', (t) => {
  t.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  t.equal(crc32c(new Uint8Array(0)), 0);
  // RFC 3720 (iSCSI) B.4 test vectors.
  t.equal(crc32c(new Uint8Array(32)), 0x8a9136aa, '32 zero bytes');
  t.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43, '32 0xff bytes');
  t.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e, 'ascending');
  t.end();
});

t.test('property: slicing-by-8 equals the bitwise reference, and chains', async (t) => {
  await checkProperty(
    t,
    'crc32c matches reference and crc32c(b, crc32c(a)) = crc32c(a ++ b)',
    fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 100 }), (a, b) => {
      const ab = new Uint8Array([...a, ...b]);
      return crc32c(a) === crc32cBitwise(a) && crc32c(b, crc32c(a)) === crc32c(ab);
    }),
  );
});

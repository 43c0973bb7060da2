// The data every system is loaded with: fixed-size keys over a fixed keyspace and one value of
// fixed size, so that kvapp and etcd store and move the same bytes.

/** The i-th key: 'k' and i zero-padded to `keyBytes` characters in all. */
export function keyAt(i, keyBytes) {
  const key = `k${String(i).padStart(keyBytes - 1, '0')}`;
  if (key.length !== keyBytes) throw new Error(`key ${i} does not fit in ${keyBytes} bytes`);
  return key;
}

/** A value of exactly `valueBytes` ASCII characters (random letters, so it does not compress to nothing). */
export function makeValue(valueBytes) {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let value = '';
  for (let i = 0; i < valueBytes; i++) value += alphabet[Math.floor(Math.random() * alphabet.length)];
  return value;
}

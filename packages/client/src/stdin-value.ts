/** A value on standard input that cannot be used: too large, or not UTF-8 text. */
export class StdinValueError extends Error {}

/**
 * Reads a whole value from a stream (standard input for `kvapp put key -`), byte for byte: no
 * trailing newline is removed, so what is stored is exactly what was piped in. Stops reading as
 * soon as more than `bytesMax` bytes came, so a huge or endless input cannot fill the memory.
 */
export async function readValue(input: AsyncIterable<Uint8Array | string>, bytesMax: number): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of input) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    bytes += b.length;
    if (bytes > bytesMax)
      throw new StdinValueError(`the value on standard input is larger than ${bytesMax} bytes, the most one request can carry`);
    chunks.push(b);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(Buffer.concat(chunks, bytes));
  } catch {
    throw new StdinValueError('the value on standard input is not UTF-8 text');
  }
}

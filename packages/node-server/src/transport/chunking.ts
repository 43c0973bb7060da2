import { TransportError } from './errors.js';

/**
 * A Raft message larger than one frame (in practice a snapshot: the whole state machine) travels
 * as consecutive chunk frames:
 *   0xc1 | u32 total | u32 offset | bytes          (integers big-endian)
 * 0xc1 is the one byte msgpack never uses, so a chunk is never mistaken for a whole message.
 * The receiver keeps one message in assembly per connection, bounded by messageBytesMax.
 */
export const CHUNK_TAG = 0xc1;
const headerBytes = 9;

export function isChunk(frame: Uint8Array): boolean {
  return frame.length > 0 && frame[0] === CHUNK_TAG;
}

/**
 * An encoded message, given as the parts whose concatenation it is, as chunk frames of at most
 * `frameBytesMax` bytes each. Each frame is a list of fragments: its 9-byte header, then views of
 * the parts, never copies (the sender writes them as one WebSocket message in fragments).
 */
export function chunkFrames(parts: readonly Uint8Array[], frameBytesMax: number): Uint8Array[][] {
  const room = frameBytesMax - headerBytes;
  if (room < 1) throw new RangeError(`frameBytesMax ${frameBytesMax} leaves no room for a chunk`);
  let total = 0;
  for (const part of parts) total += part.length;
  const chunks: Uint8Array[][] = [];
  let partIndex = 0;
  let partOffset = 0;
  for (let offset = 0; offset < total; offset += room) {
    const header = new Uint8Array(headerBytes);
    const view = new DataView(header.buffer);
    header[0] = CHUNK_TAG;
    view.setUint32(1, total);
    view.setUint32(5, offset);
    const frame: Uint8Array[] = [header];
    let left = Math.min(room, total - offset);
    while (left > 0) {
      const part = parts[partIndex]!;
      const take = Math.min(left, part.length - partOffset);
      frame.push(part.subarray(partOffset, partOffset + take));
      left -= take;
      partOffset += take;
      if (partOffset === part.length) {
        partIndex++;
        partOffset = 0;
      }
    }
    chunks.push(frame);
  }
  return chunks;
}

/** `message` (an encoded message) as whole chunk frames (copies), of at most `frameBytesMax` bytes each. */
export function splitIntoChunks(message: Uint8Array, frameBytesMax: number): Uint8Array[] {
  return chunkFrames([message], frameBytesMax).map((fragments) => Buffer.concat(fragments));
}

/**
 * Reassembles one connection's chunks. A malformed chunk or one announcing more than
 * messageBytesMax throws TRANSPORT_BAD_FRAME (the connection is closed, as for any bad frame). A
 * chunk that does not continue the message in assembly (the sender's link broke mid-message and
 * it resumed on a new connection, or dropped the rest) is discarded: Raft sends the message again.
 */
export class ChunkAssembler {
  private buffer: Uint8Array | null = null;
  private received = 0;

  /** `onDiscard` counts the messages given up on (see the class comment). */
  constructor(
    private readonly messageBytesMax: number,
    private readonly onDiscard: () => void = () => {},
  ) {}

  /** The whole message once its last chunk arrived; null while more are expected or after a discard. */
  accept(frame: Uint8Array): Uint8Array | null {
    if (frame.length <= headerBytes || frame[0] !== CHUNK_TAG) throw bad('a chunk without its header or bytes');
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const total = view.getUint32(1);
    const offset = view.getUint32(5);
    const part = frame.subarray(headerBytes);
    if (total > this.messageBytesMax) throw bad(`a chunked message of ${total} bytes, above messageBytesMax ${this.messageBytesMax}`);
    if (offset + part.length > total) throw bad(`a chunk at ${offset} of ${part.length} bytes runs past the message's ${total}`);
    if (offset === 0) {
      if (this.buffer !== null) this.onDiscard(); // the previous message never finished
      this.buffer = new Uint8Array(total);
      this.received = 0;
    } else if (this.buffer === null || this.buffer.length !== total || offset !== this.received) {
      // A gap or a stray chunk: the message can no longer be finished; free it now.
      this.buffer = null;
      this.received = 0;
      this.onDiscard();
      return null;
    }
    this.buffer.set(part, offset);
    this.received += part.length;
    if (this.received < total) return null;
    const whole = this.buffer;
    this.buffer = null;
    this.received = 0;
    return whole;
  }

  /** A whole (unchunked) message arrived: any message in assembly will not be finished. */
  abandon(): void {
    if (this.buffer === null) return;
    this.onDiscard();
    this.buffer = null;
    this.received = 0;
  }
}

function bad(what: string): TransportError {
  return new TransportError('TRANSPORT_BAD_FRAME', `bad frame: ${what}`);
}

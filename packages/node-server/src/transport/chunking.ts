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

/** `message` (an encoded message) as chunk frames of at most `frameBytesMax` bytes each. */
export function splitIntoChunks(message: Uint8Array, frameBytesMax: number): Uint8Array[] {
  const room = frameBytesMax - headerBytes;
  if (room < 1) throw new RangeError(`frameBytesMax ${frameBytesMax} leaves no room for a chunk`);
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < message.length; offset += room) {
    const part = message.subarray(offset, Math.min(message.length, offset + room));
    const frame = new Uint8Array(headerBytes + part.length);
    const view = new DataView(frame.buffer);
    frame[0] = CHUNK_TAG;
    view.setUint32(1, message.length);
    view.setUint32(5, offset);
    frame.set(part, headerBytes);
    chunks.push(frame);
  }
  return chunks;
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

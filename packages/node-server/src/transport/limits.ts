/** Every bound of the peer transport; all are options (see README.md, "Transport"). */
export interface TransportLimits {
  /** Largest frame sent or accepted (ws maxPayload too). A larger message goes as chunks (chunking.ts). */
  readonly frameBytesMax: number;
  /**
   * Largest Raft message sent or reassembled (a snapshot carries the whole state machine); above
   * it a message is dropped and counted. A receiver holds at most one such message per peer.
   */
  readonly messageBytesMax: number;
  /** Messages waiting per peer while its link is down or slow; past it, new messages drop (Raft retransmits). */
  readonly sendQueueMessagesMax: number;
  /** The same bound in bytes. */
  readonly sendQueueBytesMax: number;
  /** Bytes handed to one socket and not yet flushed; past it, messages wait in the queue. */
  readonly sendBufferBytesMax: number;
  /** A peer connection must complete the handshake within this. */
  readonly handshakeMsMax: number;
  /** Inbound connections still in their handshake; more are closed at once. */
  readonly handshakesPendingMax: number;
  /** Ping period; a connection that did not answer the previous ping is closed as dead. */
  readonly pingIntervalMs: number;
  /** Reconnect delay: capped exponential from min to max, half of it jittered. */
  readonly reconnectMsMin: number;
  readonly reconnectMsMax: number;
}

export const TRANSPORT_LIMITS_DEFAULT: TransportLimits = {
  frameBytesMax: 16 * 1024 * 1024,
  messageBytesMax: 256 * 1024 * 1024,
  sendQueueMessagesMax: 4096,
  sendQueueBytesMax: 64 * 1024 * 1024,
  sendBufferBytesMax: 8 * 1024 * 1024,
  handshakeMsMax: 3000,
  handshakesPendingMax: 64,
  pingIntervalMs: 1000,
  reconnectMsMin: 50,
  reconnectMsMax: 2000,
};

/** Returns an error message, or null when the limits are usable. */
export function checkTransportLimits(l: TransportLimits): string | null {
  for (const [name, v] of Object.entries(l)) {
    if (!Number.isSafeInteger(v) || v < 1) return `${name} must be an integer >= 1, got ${String(v)}`;
  }
  if (l.reconnectMsMin > l.reconnectMsMax) return 'reconnectMsMin must be <= reconnectMsMax';
  if (l.frameBytesMax < 64) return 'frameBytesMax must be at least 64';
  if (l.messageBytesMax < l.frameBytesMax) return 'messageBytesMax must be >= frameBytesMax';
  if (l.messageBytesMax > 0xffffffff) return 'messageBytesMax must be below 4 GiB';
  return null;
}

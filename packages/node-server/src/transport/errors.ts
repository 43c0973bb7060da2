/** Operating errors of the peer transport, with stable codes. */
export type TransportErrorCode =
  /** A frame that is not a well-formed Raft message (or came from the wrong peer). */
  | 'TRANSPORT_BAD_FRAME'
  /** A message whose encoding exceeds frameBytesMax; it is dropped, never sent. */
  | 'TRANSPORT_FRAME_TOO_LARGE'
  /** A peer connection refused during the handshake; `closeCode` says why. */
  | 'TRANSPORT_HANDSHAKE_REJECTED';

export class TransportError extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    /** The WebSocket close code sent or received (see handshake.ts CLOSE). */
    readonly closeCode?: number,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

import type { NodeId } from '@kvapp/core';

/** Plain counters, for the node to copy into prom-client; all only grow except the gauges noted. */
export interface PeerStats {
  messagesSent: number;
  bytesSent: number;
  messagesReceived: number;
  bytesReceived: number;
  /** Messages dropped because the send queue was full. */
  queueDrops: number;
  /** Gauge: messages waiting now. */
  queueLength: number;
  /** Gauge: the outbound link is open (handshake done). */
  connected: boolean;
  /** Outbound handshakes completed. */
  connects: number;
}

export interface TransportStats {
  readonly peers: ReadonlyMap<NodeId, Readonly<PeerStats>>;
  /** Frames refused after a handshake (malformed, wrong sender, text, too large); each closed its connection. */
  readonly framesRejected: number;
  /** Inbound handshakes refused (wrong cluster, wrong secret, malformed, timeout, too many at once). */
  readonly handshakesRejected: number;
  readonly handshakesAccepted: number;
  /** Messages never sent because their encoding exceeded messageBytesMax. */
  readonly messagesOversize: number;
  /** Messages sent in chunks (larger than frameBytesMax). */
  readonly messagesChunked: number;
  /** Chunked messages received only in part and given up on (the sender's link broke mid-message). */
  readonly chunkedMessagesDiscarded: number;
  /** Messages to a node this transport has no address for. */
  readonly messagesUnroutable: number;
}

export function emptyPeerStats(): PeerStats {
  return {
    messagesSent: 0,
    bytesSent: 0,
    messagesReceived: 0,
    bytesReceived: 0,
    queueDrops: 0,
    queueLength: 0,
    connected: false,
    connects: 0,
  };
}

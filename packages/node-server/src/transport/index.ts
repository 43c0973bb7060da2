export { PeerTransport, type PeerTransportOptions } from './peer-transport.js';
export { encodeMessage, decodeMessage, CODEC_VERSION } from './codec.js';
export { CLOSE, HANDSHAKE_VERSION } from './handshake.js';
export { TransportError, type TransportErrorCode } from './errors.js';
export { TRANSPORT_LIMITS_DEFAULT, checkTransportLimits, type TransportLimits } from './limits.js';
export type { PeerStats, TransportStats } from './stats.js';
export type { HostPort, TlsFiles } from './tls.js';

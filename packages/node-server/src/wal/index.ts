export { Wal, walOptionsDefault } from './wal.js';
export type { SyncMethod } from './segment-writer.js';
export type { WalFailpoints, WalLog, WalOptions, WalRecovered, WalStats, TruncatedTail } from './wal.js';
export type { SnapshotMarker } from './payload.js';
export { WalError, type WalErrorCode } from './errors.js';
export { crc32c } from './crc32c.js';
export { fsyncDir, writeFileAtomic } from './atomic-file.js';

export { Wal, walOptionsDefault } from './wal.js';
export type { SyncMethod } from './segment-writer.js';
export type { WalFailpoints, WalLog, WalOptions, WalRecovered, WalStats, TruncatedTail } from './wal.js';
export type { SnapshotMarker } from './payload.js';
export { WalError, type WalErrorCode } from './errors.js';
export { crc32c } from './crc32c.js';
export { writeFileAtomic, type AtomicWriteOptions } from './atomic-file.js';
export { fsyncDir, syncFile } from './file-sync.js';
export { DiskProbe, DiskProbeError, installDiskProbe, DISK_JOURNAL_ENV, DISK_STALL_FILE_ENV, type DiskProbeSpec } from './disk-probe.js';

export { KvClient, type KvClientOptions } from './client.js';
export { KvConnectionPool, type KvConnectionPoolOptions } from './connection-pool.js';
export type { EndpointHealth, Outcome, SnapshotSaveOutcome, StatusOutcome } from './outcome.js';
export {
  BACKUP_FORMAT,
  BACKUP_VERSION,
  BackupFileError,
  encodeBackupHeader,
  readBackupFile,
  type BackupHeader,
} from './snapshot-backup.js';
export * from './protocol.js';

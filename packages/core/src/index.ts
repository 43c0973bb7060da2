export { RaftNode, type RaftStatus } from './raft/raft-node.js';
export type { Ready } from './raft/ready.js';
export type { PersistToken } from './raft/persist-token.js';
export type { StateChange, StateChangeReason } from './raft/state-change.js';
export type { RaftConfig, UnsafeSwitches } from './raft/config.js';
export { RAFT_DEFAULTS } from './raft/config.js';
export { RaftError, type RaftErrorCode } from './raft/errors.js';
export { StorageError, type Storage, type StorageErrorCode } from './raft/storage.js';
export { MemoryStorage } from './raft/memory-storage.js';
export { seededRng, type Rng, type SeededRng } from './raft/rng.js';
export { AssertionError } from './assert.js';
export { entryBytes } from './raft/entry-size.js';
export * from './raft/types.js';
export * from './kv/index.js';
export {
  encodeConfChange,
  decodeConfChange,
  nextConf,
  type ConfChange,
  type ConfChangeEntry,
  type MemberAddresses,
} from './raft/conf-change.js';

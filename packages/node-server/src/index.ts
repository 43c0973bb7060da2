export { startNode, type NodeHandle, type NodeAddresses, type NodeStatusReport, type StartOptions } from './node/start-node.js';
export { StartError, type StartErrorCode } from './node/start-error.js';
export { loadConfig, parseHostPort, formatHostPort, USAGE, type ConfigSources, type LoadResult } from './config/load-config.js';
export { resolveNodeConfig, type ResolveOptions } from './config/resolve-config.js';
export { ConfigError } from './config/config-error.js';
export {
  CONFIG_DEFAULTS,
  LOG_LEVELS,
  type NodeConfig,
  type NodeConfigInput,
  type AddressInput,
  type AddressMapInput,
  type HostPort,
  type LogLevel,
  type TlsPaths,
} from './config/node-config.js';
export { DataDirLock, LOCK_FILE, type LockHolder } from './node/data-dir-lock.js';
export { BOOTSTRAP_FILE } from './node/bootstrap-record.js';
export { KernelHost, HOST_LIMITS_DEFAULT, type KernelHostOptions, type HostLimits, type ProposalOutcome } from './node/kernel-host.js';
export { RequestError, type RequestErrorCode, type ClientCommand } from '@kvapp/kernel';
export type { DurableLog, PersistBatch } from './node/durable-log.js';
export { WalDurableLog } from './node/wal-log.js';
export { MemoryDurableLog } from './node/memory-log.js';
export { Failpoints, FailpointError, FAILPOINT_NAMES, type FailpointName } from './failpoints/failpoints.js';
export * from './wal/index.js';

export { KvClient, type KvClientOptions } from './client.js';
export { KvConnectionPool, type KvConnectionPoolOptions } from './connection-pool.js';
export type { EndpointHealth, Outcome, StatusOutcome } from './outcome.js';
export * from './protocol.js';

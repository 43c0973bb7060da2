export { KvClient, type KvClientOptions } from './client.js';
export type { EndpointHealth, Outcome, StatusOutcome } from './outcome.js';
export * from './protocol.js';

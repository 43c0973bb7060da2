export * from './types.js';
export { runScenario, type RunResultFile } from './run-scenario.js';
export { KvCluster, nodeCliPath, type KvClusterOptions, type NodeHealth } from './kv-cluster.js';
export { RssSampler, type NodePids } from './rss-sampler.js';
export { checkAckedWrites, type AckedWritesResult } from './acked-writes.js';
export { answered, availability, availabilityUnderFaults, latency, opCounts, operations } from './summary.js';

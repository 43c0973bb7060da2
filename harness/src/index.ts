export * from './proxy/link-proxy.js';
export * from './proxy/proxy-set.js';
export * from './cluster/process-supervisor.js';
export { readProcStat } from './cluster/proc-stat.js';
export type { ProcStat } from './cluster/proc-stat.js';
export * from './cluster/layout.js';
export * from './cluster/ports.js';

export * from './proxy/link-proxy.js';
export * from './proxy/proxy-set.js';

export * from './wal/index.js';

export type {
  EventType,
  EventValue,
  History,
  HistoryEvent,
  OpFunction,
  OpStatus,
  Operation,
  ProcessId,
  ReadEvent,
  Value,
} from './history.js';
export { eventLine, eventsJsonl, HistoryUsageError, HistoryWriter } from './history-writer.js';
export { HistoryError, type HistoryErrorCode } from './history-error.js';
export { historyFromEvents, parseHistory, readHistoryFile } from './read-history.js';
export type { Model, ModelOp, Partition, SearchHooks } from './model.js';
export { search, type SearchOptions, type SearchResult, type SearchVerdict } from './search.js';
export { kvModel } from './kv-model.js';
export { partitionKv, type KvPartition } from './kv-partition.js';
export { checkKey, type KeyResult, type KeyCheckOptions } from './check-key.js';
export { checkFile, checkHistory, checkHistorySync, idleCores, threadsAheadOf, type CheckOptions, type CheckResult } from './check.js';
export { CheckThreads } from './check-threads.js';
export { describeOperation, type Witness } from './witness.js';
export { renderReport } from './report.js';

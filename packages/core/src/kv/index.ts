export { encodeCommand, decodeCommand, KvCommandError, KV_COMMAND_VERSION } from './command.js';
export type { KvCommand, KvCommandKind, KvSession } from './command.js';
export type { KvResult, KvRejectCode } from './result.js';
export { kvOptionsDefault } from './options.js';
export type { KvOptions } from './options.js';
export {
  KvSnapshotError,
  KV_SNAPSHOT_VERSION,
  encodeSnapshot as encodeKvSnapshot,
  decodeSnapshot as decodeKvSnapshot,
  type KvSnapshotState,
} from './snapshot.js';
export { KvStateMachine } from './state-machine.js';

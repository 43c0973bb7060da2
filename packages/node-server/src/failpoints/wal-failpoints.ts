import type { WalFailpoints } from '../wal/index.js';
import type { Failpoints } from './failpoints.js';

/**
 * The WAL's failpoint hooks for the armed failpoints only; undefined when none of the WAL's is
 * armed. Why not always install them as no-ops: an installed hook makes the WAL write each batch
 * the slow way (two writes and an fdatasync, three thread-pool jobs, instead of one O_DSYNC
 * write) and await the hook, on every batch of a production node.
 */
export function walFailpointHooks(failpoints: Failpoints): WalFailpoints | undefined {
  const hooks: { -readonly [K in keyof WalFailpoints]: WalFailpoints[K] } = {};
  if (failpoints.isArmed('wal-before-fsync')) hooks['wal-before-fsync'] = () => failpoints.hit('wal-before-fsync');
  if (failpoints.isArmed('wal-mid-record')) hooks['wal-mid-record'] = () => failpoints.hit('wal-mid-record');
  return Object.keys(hooks).length > 0 ? hooks : undefined;
}

import { readdir } from 'node:fs/promises';
import { BackupFileError, readBackupFile } from '@kvapp/client';
import { decodeKvSnapshot, encodeKvSnapshot, KvSnapshotError, type ConfState, type MemberAddresses, type NodeId } from '@kvapp/core';
import { decodeSnapshotFile, SnapshotFileError } from '../snapshot/snapshot-file.js';
import { storeBootstrapRecord } from './bootstrap-record.js';
import { LOCK_FILE } from './data-dir-lock.js';
import { StartError } from './start-error.js';
import { WalDurableLog } from './wal-log.js';

export interface RestoreOptions {
  readonly dataDir: string;
  /** A file written by `kvapp snapshot save`. */
  readonly file: string;
  /** The new cluster: this node and --peers, all voters. */
  readonly conf: ConfState;
  /** The new cluster's addresses as this node's flags give them (bootstrap.json). */
  readonly addresses: ReadonlyMap<NodeId, MemberAddresses>;
}

/**
 * `kvapp-node --restore <file>`: seeds a new data dir from a saved snapshot, like `etcdctl
 * snapshot restore`. In order, and nothing written until every check passed:
 * 1. the data dir must hold nothing but this process's LOCK (else RESTORE_REFUSED);
 * 2. the file's header, length and SHA-256, then the node snapshot inside it (its CRC32C and
 *    meta) and the KV state must all check out (else RESTORE_REFUSED naming the file);
 * 3. the snapshot is written as this node's snapshot at the saved index and term, with the NEW
 *    configuration (`conf`) in place of the saved one, and member addresses the old cluster's log
 *    had taught the state machine dropped (the new members' come from bootstrap.json). The hard
 *    state is set to the saved term with the snapshot index committed: every node of the new
 *    cluster restored from the same file holds the same log up to there, so none can lose it;
 * 4. bootstrap.json records `conf` and `addresses`, as for a new cluster.
 * Resolves with the index and term restored.
 */
export async function restoreDataDir(o: RestoreOptions): Promise<{ index: number; term: number; bytes: number }> {
  const present = (await readdir(o.dataDir)).filter((name) => name !== LOCK_FILE && !name.startsWith(`${LOCK_FILE}.`));
  if (present.length > 0) {
    throw new StartError(
      'RESTORE_REFUSED',
      `data dir ${o.dataDir} is not empty (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', ...' : ''}); --restore seeds a new data dir only`,
      { dataDir: o.dataDir, file: o.file, reason: 'not empty' },
    );
  }
  const refuse = (reason: string): StartError =>
    new StartError('RESTORE_REFUSED', `cannot restore from ${o.file}: ${reason}; nothing was written`, {
      dataDir: o.dataDir,
      file: o.file,
      reason,
    });
  let data: Uint8Array;
  let index: number;
  let term: number;
  let bytes: number;
  try {
    const { header, payload } = await readBackupFile(o.file);
    const saved = decodeSnapshotFile(new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength), o.file);
    if (saved.meta.index !== header.index || saved.meta.term !== header.term)
      throw refuse(`the header names index ${header.index} term ${header.term}, the snapshot holds ${saved.meta.index} ${saved.meta.term}`);
    const kv = decodeKvSnapshot(saved.data);
    if (kv.appliedIndex !== saved.meta.index)
      throw refuse(`the KV state is at index ${kv.appliedIndex}, the snapshot at ${saved.meta.index}`);
    data = encodeKvSnapshot({ ...kv, members: [] });
    ({ index, term } = saved.meta);
    bytes = header.bytes;
  } catch (error) {
    if (error instanceof StartError) throw error;
    if (error instanceof BackupFileError || error instanceof SnapshotFileError || error instanceof KvSnapshotError)
      throw refuse(error instanceof BackupFileError ? error.message.replace(/^snapshot file \S+ is unusable: /, '') : error.message);
    throw error;
  }

  const opened = await WalDurableLog.open(o.dataDir, o.conf);
  try {
    await opened.log.persist({
      snapshot: { meta: { index, term, conf: o.conf }, data },
      hardState: { term, vote: 0, commit: index },
      entries: [],
      mustSync: true,
    });
  } finally {
    await opened.log.close();
  }
  await storeBootstrapRecord(o.dataDir, { conf: o.conf, addresses: o.addresses });
  return { index, term, bytes };
}

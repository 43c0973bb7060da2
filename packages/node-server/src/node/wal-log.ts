import { join } from 'node:path';
import { MemoryStorage, type ConfState, type Snapshot } from '@kvapp/core';
import { Wal, type WalOptions, type WalRecovered } from '../wal/index.js';
import { mkdirDurable } from '../wal/file-sync.js';
import { readNewestSnapshot, removeOlderSnapshots, writeSnapshotFile } from '../snapshot/snapshot-file.js';
import type { DurableLog, PersistBatch } from './durable-log.js';

export interface OpenedLog {
  readonly log: WalDurableLog;
  /** The snapshot the state machine must start from (index 0: start empty). */
  readonly snapshot: Snapshot;
  readonly recovered: WalRecovered;
}

/**
 * The node's durable log: the WAL under `<dataDir>/wal`, snapshots under `<dataDir>/snap`, and a
 * MemoryStorage mirror that the Raft core reads. The mirror is only updated after the disk write
 * it reflects has finished, so the core never sees a state the disk does not have.
 */
export class WalDurableLog implements DurableLog {
  private constructor(
    readonly storage: MemoryStorage,
    private readonly wal: Wal,
    private readonly snapDir: string,
    /** TEST ONLY (--unsafe-skip-dir-fsync): snapshot files are renamed into place without a directory fsync. */
    private readonly unsafeSkipDirFsync: boolean,
  ) {}

  /** `bootstrap` is the membership of a brand-new cluster; ignored once a snapshot holds one. */
  static async open(dataDir: string, bootstrap: ConfState, walOptions: WalOptions = {}): Promise<OpenedLog> {
    const snapDir = join(dataDir, 'snap');
    await mkdirDurable(snapDir);
    const snapshotOnDisk = await readNewestSnapshot(snapDir);
    const { wal, recovered } = await Wal.open(join(dataDir, 'wal'), walOptions);
    const storage = new MemoryStorage(bootstrap);
    let snapshot = storage.snapshot();
    if (snapshotOnDisk) {
      storage.applySnapshot(snapshotOnDisk);
      snapshot = snapshotOnDisk;
    }
    const base = snapshot.meta.index;
    const entries = recovered.entries.filter((e) => e.index > base);
    if (entries.length > 0 && entries[0]!.index !== base + 1) {
      await wal.close();
      throw new Error(`log in ${dataDir} has a gap: the snapshot ends at ${base} but the WAL resumes at ${entries[0]!.index}`);
    }
    storage.append(entries);
    if (recovered.hardState) {
      // A commit index below the snapshot is raised to it by the core itself.
      const commit = Math.min(recovered.hardState.commit, storage.lastIndex());
      storage.setHardState({ ...recovered.hardState, commit });
    }
    return { log: new WalDurableLog(storage, wal, snapDir, walOptions.unsafeSkipDirFsync === true), snapshot, recovered };
  }

  async persist(batch: PersistBatch): Promise<void> {
    if (batch.snapshot) await this.saveSnapshot(batch.snapshot);
    if (batch.entries.length > 0 || batch.hardState) {
      await this.wal.save(batch.hardState, batch.entries, { sync: batch.mustSync });
    }
    this.storage.append(batch.entries);
    if (batch.hardState) this.storage.setHardState(batch.hardState);
  }

  /** Takes a snapshot of the applied state at `index`, then drops the log and files it covers. */
  async compact(index: number, conf: ConfState, data: Uint8Array): Promise<void> {
    if (index <= this.storage.snapshot().meta.index) return;
    const snapshot: Snapshot = { meta: { index, term: this.storage.term(index), conf }, data };
    await writeSnapshotFile(this.snapDir, snapshot, { unsafeSkipDirFsync: this.unsafeSkipDirFsync });
    await this.wal.saveSnapshotMarker({ index, term: snapshot.meta.term });
    this.storage.createSnapshot(index, conf, data);
    this.storage.compact(index);
    await this.wal.releaseTo(index);
    await removeOlderSnapshots(this.snapDir, index);
  }

  private async saveSnapshot(snapshot: Snapshot): Promise<void> {
    await writeSnapshotFile(this.snapDir, snapshot, { unsafeSkipDirFsync: this.unsafeSkipDirFsync });
    await this.wal.saveSnapshotMarker({ index: snapshot.meta.index, term: snapshot.meta.term });
    this.storage.applySnapshot(snapshot);
    await this.wal.releaseTo(snapshot.meta.index);
    await removeOlderSnapshots(this.snapDir, snapshot.meta.index);
  }

  stats(): ReturnType<Wal['stats']> {
    return this.wal.stats();
  }

  async close(): Promise<void> {
    await this.wal.close();
  }
}

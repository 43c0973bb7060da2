import { MemoryStorage, type ConfState } from '@kvapp/core';
import type { DurableLog, PersistBatch } from './durable-log.js';

/** A DurableLog that forgets everything on process exit: tests and throwaway single-node use. */
export class MemoryDurableLog implements DurableLog {
  readonly storage: MemoryStorage;
  persistCount = 0;

  constructor(conf: ConfState) {
    this.storage = new MemoryStorage(conf);
  }

  async persist(batch: PersistBatch): Promise<void> {
    await Promise.resolve(); // persisting is asynchronous in real logs; keep the same shape
    if (batch.snapshot) this.storage.applySnapshot(batch.snapshot);
    this.storage.append(batch.entries);
    if (batch.hardState) this.storage.setHardState(batch.hardState);
    this.persistCount++;
  }

  async compact(index: number, conf: ConfState, data: Uint8Array): Promise<void> {
    await Promise.resolve();
    if (index <= this.storage.snapshot().meta.index) return;
    this.storage.createSnapshot(index, conf, data);
    this.storage.compact(index);
  }

  async close(): Promise<void> {}
}

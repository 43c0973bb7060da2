import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';

/**
 * Appends lines to a file in order. Lines are accepted synchronously (so the order of the file is
 * the order of the calls); `write` returns a promise that resolves once fewer than
 * `bufferedBytesMax` bytes wait for the disk, so a caller that awaits it is held back instead of
 * growing memory without bound.
 */
export class JsonlWriter {
  private readonly stream: WriteStream;
  private failure: Error | null = null;
  private closed: Promise<void> | null = null;

  constructor(
    readonly path: string,
    bufferedBytesMax: number,
  ) {
    this.stream = createWriteStream(path, { flags: 'w', highWaterMark: bufferedBytesMax });
    this.stream.on('error', (err) => (this.failure ??= err));
  }

  /** The first write error, if any. */
  get error(): Error | null {
    return this.failure;
  }

  write(line: string): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.stream.write(`${line}\n`)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        this.stream.off('error', onError);
        resolve();
      };
      const onError = (err: Error): void => {
        this.stream.off('drain', onDrain);
        reject(err);
      };
      this.stream.once('drain', onDrain);
      this.stream.once('error', onError);
    });
  }

  /** Flushes and closes; rejects with the first write error. Idempotent. */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve, reject) => {
      this.stream.end(() => (this.failure === null ? resolve() : reject(this.failure)));
      this.stream.once('error', reject);
    });
    return this.closed;
  }
}

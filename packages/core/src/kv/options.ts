/**
 * Limits of the KV state machine. They decide results, so they must be identical on every
 * replica: they travel inside snapshots, and a cluster must start all nodes with the same values.
 */
export interface KvOptions {
  /** UTF-8 bytes of a key; a longer key is answered `rejected` KV_KEY_TOO_LARGE. */
  readonly keyBytesMax: number;
  /** UTF-8 bytes of a value (and of a cas expected value); longer is KV_VALUE_TOO_LARGE. */
  readonly valueBytesMax: number;
  /** Open sessions; opening one more evicts the least recently used. */
  readonly sessionsMax: number;
  /** A session unused for longer than this, on the log's clock, expires. */
  readonly sessionIdleMsMax: number;
}

export const kvOptionsDefault: KvOptions = {
  keyBytesMax: 1024,
  valueBytesMax: 64 * 1024,
  sessionsMax: 10_000,
  sessionIdleMsMax: 10 * 60 * 1000,
};

/** Returns an error message, or null when the options are usable. */
export function checkKvOptions(o: KvOptions): string | null {
  for (const name of ['keyBytesMax', 'valueBytesMax', 'sessionsMax'] as const) {
    if (!Number.isSafeInteger(o[name]) || o[name] < 1) return `${name} must be an integer >= 1, got ${o[name]}`;
  }
  if (!Number.isSafeInteger(o.sessionIdleMsMax) || o.sessionIdleMsMax < 0) {
    return `sessionIdleMsMax must be an integer >= 0, got ${o.sessionIdleMsMax}`;
  }
  return null;
}

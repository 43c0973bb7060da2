/**
 * What applying a KV command answers. Every result is a deterministic function of the log, so
 * each replica computes the same one, and a session caches it to answer retries.
 *
 * How a client maps results to an operation outcome (history types in docs/history-format.md):
 * - `ok`, `registered`: it happened, exactly once, at this entry's position in the log.
 * - `cas-mismatch`: the cas was evaluated and did not match: a definite `fail` that also
 *   observes `current` (the checker uses "error":"cas-mismatch").
 * - `rejected`: the command was refused before touching the store (too large, malformed): a
 *   definite `fail` FOR THIS ENTRY.
 * - `session-expired`: the state machine no longer knows the session, so it cannot tell whether
 *   an earlier attempt of this same command was applied before the session expired. This entry
 *   changed nothing, but the operation's outcome is INDETERMINATE (`info`) unless the client
 *   knows this was the command's first and only attempt. The client must register a new session.
 * - `stale-seq`: the seq is below the session's last one. With at most one command in flight
 *   per session, the client already gave up on that command; this entry changed nothing.
 *
 * Caveat for `rejected` and `stale-seq` as `fail`: they speak for this entry only. An earlier
 * attempt of the same command can only have applied if it sits earlier in the log, in which case
 * a retry gets the cached result instead; so for a sessioned command they are definite.
 */
export type KvResult =
  /**
   * get: the value read; put and delete: the value before (null if absent); cas: the value
   * before, which equals `expected`.
   */
  | { readonly type: 'ok'; readonly value: string | null }
  | { readonly type: 'registered'; readonly clientId: string }
  | { readonly type: 'cas-mismatch'; readonly current: string | null }
  | { readonly type: 'session-expired' }
  | { readonly type: 'stale-seq'; readonly lastSeq: number }
  | { readonly type: 'rejected'; readonly code: KvRejectCode; readonly message: string };

export type KvRejectCode = 'KV_KEY_TOO_LARGE' | 'KV_VALUE_TOO_LARGE' | 'KV_BAD_COMMAND';

/** Stable codes for a history the checker cannot read. The CLI exits 3 on any of them. */
export type HistoryErrorCode =
  | 'HISTORY_UNREADABLE'
  | 'HISTORY_BAD_JSON'
  | 'HISTORY_BAD_FIELD'
  | 'HISTORY_UNKNOWN_TYPE'
  | 'HISTORY_UNKNOWN_F'
  | 'HISTORY_ORPHAN_COMPLETION'
  | 'HISTORY_PROCESS_BUSY'
  | 'HISTORY_COMPLETION_MISMATCH';

/** The input is not a valid history. `line` is 1-based, or 0 when the problem is not on one line. */
export class HistoryError extends Error {
  readonly code: HistoryErrorCode;
  readonly line: number;
  readonly reason: string;

  constructor(code: HistoryErrorCode, line: number, reason: string) {
    super(line > 0 ? `line ${line}: ${reason}` : reason);
    this.name = 'HistoryError';
    this.code = code;
    this.line = line;
    this.reason = reason;
  }
}

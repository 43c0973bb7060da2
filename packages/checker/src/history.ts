/**
 * The history format of docs/history-format.md: JSON Lines, one event per line, in the order the
 * events happened. This file is the one definition of its types: the simulator and the harness
 * write events of these types (history-writer.ts), the reader (read-history.ts) produces them.
 */

/** A value stored under a key. Compared exactly: `1` and `"1"` differ. */
export type Value = string | number;

export type EventType = 'invoke' | 'ok' | 'fail' | 'info';
/** A delete makes the key absent: afterwards a read returns null and a cas expecting null matches. */
export type OpFunction = 'read' | 'write' | 'cas' | 'delete';
export type ProcessId = number | string;

/**
 * An event's value. read: null on invoke, the value read (null = absent) on ok. write: the value.
 * cas: [expected, new]. delete: null.
 */
export type EventValue = Value | null | readonly [Value | null, Value];

/** One line of a history, field for field (the writer puts them in this order). */
export interface HistoryEvent {
  readonly process: ProcessId;
  readonly type: EventType;
  readonly f: OpFunction;
  readonly key: string;
  readonly value: EventValue;
  /** Monotonic nanoseconds; the simulator's are simulated and strictly increasing. */
  readonly time: number;
  /** The event's 0-based position in the file; optional for readers, always written by HistoryWriter. */
  readonly index?: number;
  readonly error?: string;
}

/** An event as the reader returns it: `line` (1-based) is where it was read, not part of the format. */
export interface ReadEvent extends HistoryEvent {
  readonly line: number;
}

/**
 * How an operation ended, as far as the checker cares.
 * - `ok`: it happened, with `output` as its result.
 * - `info`: unknown; it may take effect at any time after its invocation, or never. A completion that
 *   never came is `info` too.
 * - `mismatch`: a cas that failed with `"error":"cas-mismatch"`; an observation that the value was not
 *   the expected one at some instant of the operation.
 * - `fail`: any other failure; it changed nothing and observed nothing, so the checker drops it.
 */
export type OpStatus = 'ok' | 'info' | 'mismatch' | 'fail';

/** An invocation paired with its completion. */
export interface Operation {
  /** Position in invocation order, from 0. */
  readonly id: number;
  readonly process: ProcessId;
  readonly key: string;
  readonly f: OpFunction;
  /** The invocation's value: null for read and delete, the value for write, [expected, new] for cas. */
  readonly input: EventValue;
  /** For an ok read: the value read (null = absent). Otherwise null. */
  readonly output: Value | null;
  readonly status: OpStatus;
  /** Event positions (0-based, in history order): the real-time order the checker uses. */
  readonly call: number;
  /** Infinity when the operation is `info` or never completed: it may take effect any time after `call`. */
  readonly ret: number;
  readonly callTime: number;
  /** null when the operation never completed. */
  readonly retTime: number | null;
  readonly callLine: number;
  readonly retLine: number | null;
  readonly error?: string;
}

/** A history after reading: its events and the operations they form. */
export interface History {
  readonly events: readonly ReadEvent[];
  readonly operations: readonly Operation[];
}

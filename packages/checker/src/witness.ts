import type { Operation, Value } from './history.js';

/**
 * A counterexample a person can follow: the longest linearizable prefix the search found on a key,
 * the value after each step, and the operation that could not be placed after it.
 */
export interface Witness {
  readonly key: string;
  /** Operation ids, in the order they were linearized. */
  readonly prefix: readonly number[];
  /** The key's value after each step of `prefix` (null = absent). */
  readonly valuesAfter: readonly (Value | null)[];
  /** The operation that could not be placed, or null if the search found none to blame. */
  readonly blocked: number | null;
  /** The value after the whole prefix. */
  readonly valueBefore: Value | null;
  readonly message: string;
}

/** Replays `prefix` with the real values (the search may have merged unread values into one). */
export function buildWitness(
  key: string,
  byId: { get(id: number): Operation | undefined },
  prefix: readonly number[],
  blocked: number,
): Witness {
  const valuesAfter: (Value | null)[] = [];
  let value: Value | null = null;
  for (const id of prefix) {
    value = apply(value, byId.get(id)!);
    valuesAfter.push(value);
  }
  const op = blocked >= 0 ? byId.get(blocked) : undefined;
  return {
    key,
    prefix,
    valuesAfter,
    blocked: op ? op.id : null,
    valueBefore: value,
    message: explain(key, prefix.length, value, op),
  };
}

function apply(value: Value | null, op: Operation): Value | null {
  if (op.f === 'write') return op.input as Value;
  if (op.f === 'delete') return null;
  if (op.f !== 'cas' || op.status === 'mismatch') return value;
  const [expected, next] = op.input as readonly [Value | null, Value];
  if (op.status === 'ok') return next;
  return value === expected ? next : value;
}

export function show(v: Value | null): string {
  return v === null ? 'absent' : JSON.stringify(v);
}

export function describeOperation(op: Operation): string {
  const lines = op.retLine === null ? `line ${op.callLine}, never completed` : `lines ${op.callLine}–${op.retLine}`;
  const who = `process ${JSON.stringify(op.process)}, ${lines}`;
  const tag = op.status === 'info' ? ' (indeterminate)' : '';
  if (op.f === 'read') return `read → ${show(op.output)}${tag} (${who})`;
  if (op.f === 'write') return `write ${show(op.input as Value)}${tag} (${who})`;
  if (op.f === 'delete') return `delete${tag} (${who})`;
  const [e, n] = op.input as readonly [Value | null, Value];
  const result = op.status === 'mismatch' ? ' → cas-mismatch' : op.status === 'ok' ? ' → ok' : '';
  return `cas ${show(e)} → ${show(n)}${result}${tag} (${who})`;
}

/** Whether `op` may take effect when the key holds `value`. */
function legalAfter(value: Value | null, op: Operation): boolean {
  if (op.f === 'read') return op.status !== 'ok' || op.output === value;
  if (op.f !== 'cas') return true;
  const expected = (op.input as readonly [Value | null, Value])[0];
  if (op.status === 'ok') return expected === value;
  if (op.status === 'mismatch') return expected !== value;
  return true;
}

function explain(key: string, steps: number, value: Value | null, op: Operation | undefined): string {
  const head = `key ${JSON.stringify(key)}: after the longest linearizable prefix found (${steps} operations), the value is ${show(value)}`;
  if (!op) return `${head}; no operation can follow.`;
  let why: string;
  if (op.f !== 'write' && op.f !== 'delete' && legalAfter(value, op)) {
    // The search could place it, but every way on from there failed: say that, not a contradiction.
    why = `it could take effect here (the value is ${show(value)}), but then some operation that must follow cannot be placed`;
  } else if (op.f === 'read') {
    why = `it returned ${show(op.output)}`;
  } else if (op.f === 'cas' && op.status === 'ok') {
    why = `it succeeded, so the value was ${show((op.input as readonly [Value | null, Value])[0])}`;
  } else if (op.f === 'cas' && op.status === 'mismatch') {
    why = `it failed with cas-mismatch, so the value was not ${show((op.input as readonly [Value | null, Value])[0])} at some instant`;
  } else {
    why = 'placing it there leaves some later operation impossible';
  }
  return `${head}; ${describeOperation(op)} cannot be placed: ${why}. No other order of the operations before it returned works either.`;
}

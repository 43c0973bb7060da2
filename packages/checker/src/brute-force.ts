import type { Operation, Value } from './history.js';

/**
 * A reference checker for tiny histories: tries every order of the operations (and every subset of
 * the indeterminate ones) on the register semantics of docs/history-format.md, written independently of the model
 * and the search. Exponential; for tests only.
 */
export function bruteForceLinearizable(operations: readonly Operation[]): boolean {
  const byKey = new Map<string, Operation[]>();
  for (const op of operations) {
    if (op.status === 'fail') continue;
    let list = byKey.get(op.key);
    if (!list) byKey.set(op.key, (list = []));
    list.push(op);
  }
  for (const ops of byKey.values()) if (!keyLinearizable(ops)) return false;
  return true;
}

function keyLinearizable(ops: readonly Operation[]): boolean {
  const used = new Array<boolean>(ops.length).fill(false);
  const required = ops.filter((op) => op.status !== 'info').length;
  const go = (state: Value | null, done: number): boolean => {
    if (done === required) return true;
    for (let i = 0; i < ops.length; i++) {
      if (used[i]) continue;
      const op = ops[i]!;
      // Real time: every unused operation that returned before this one was invoked must come first.
      if (ops.some((o, j) => !used[j] && o.ret < op.call)) continue;
      const next = apply(state, op);
      if (next === undefined) continue;
      used[i] = true;
      const ok = go(next.value, done + (op.status === 'info' ? 0 : 1));
      used[i] = false;
      if (ok) return true;
    }
    return false;
  };
  return go(null, 0);
}

function apply(state: Value | null, op: Operation): { value: Value | null } | undefined {
  if (op.f === 'read') {
    if (op.status === 'info') return { value: state };
    return state === op.output ? { value: state } : undefined;
  }
  if (op.f === 'write') return { value: op.input as Value };
  if (op.f === 'delete') return { value: null };
  const [expected, next] = op.input as readonly [Value | null, Value];
  if (op.status === 'mismatch') return state !== expected ? { value: state } : undefined;
  if (op.status === 'ok') return state === expected ? { value: next } : undefined;
  return { value: state === expected ? next : state };
}

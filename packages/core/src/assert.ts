/** Thrown for programmer errors: a broken invariant means the caller or the core has a bug. */
export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssertionError';
  }
}

/** The core cannot import node:assert (it must stay free of node: modules), so it has its own. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

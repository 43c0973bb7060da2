/** Programmer errors crash loudly; the core cannot import node:assert. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

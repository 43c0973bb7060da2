import { RaftError } from '../../src/index.js';

/** The RaftError code `fn` throws (undefined if it returns), so a test can assert on it. */
export function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof RaftError ? error.code : `not a RaftError: ${String(error)}`;
  }
  return undefined;
}

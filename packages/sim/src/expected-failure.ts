import type { InvariantCode } from './invariants.js';
import type { SimFailure } from './simulation.js';

/**
 * What a failure is, without where and when: its kind, and for an invariant which one. Two runs
 * that break the same rule have the same ExpectedFailure, so the shrinker keeps the rule a failing
 * schedule broke instead of drifting to whatever else a smaller schedule breaks (a liveness
 * timeout is easy to reach and proves nothing about the invariant).
 */
export type ExpectedFailure =
  | { readonly kind: 'invariant'; readonly code: InvariantCode }
  /** The checker's verdict on the history: false, proven not linearizable. */
  | { readonly kind: 'history'; readonly valid: false }
  | { readonly kind: 'history-unknown' }
  | { readonly kind: 'liveness' }
  | { readonly kind: 'assertion' };

/** The kind (and code) of a failure, to demand the same of another run. */
export function expectedFailureOf(failure: SimFailure): ExpectedFailure {
  switch (failure.kind) {
    case 'invariant':
      return { kind: 'invariant', code: failure.code };
    case 'history':
      return { kind: 'history', valid: false };
    default:
      return { kind: failure.kind };
  }
}

/** True when `failure` is of the expected kind (and code, and checker verdict). */
export function failureMatches(failure: SimFailure | null, expected: ExpectedFailure): boolean {
  if (failure === null || failure.kind !== expected.kind) return false;
  if (failure.kind === 'invariant') return expected.kind === 'invariant' && failure.code === expected.code;
  if (failure.kind === 'history') return expected.kind === 'history' && failure.verdict.valid === expected.valid;
  return true;
}

/** One line, for reports and test messages. */
export function describeExpectedFailure(expected: ExpectedFailure): string {
  switch (expected.kind) {
    case 'invariant':
      return `invariant ${expected.code}`;
    case 'history':
      return `history not linearizable (checker verdict ${String(expected.valid)})`;
    case 'history-unknown':
      return 'history undecided (checker verdict unknown)';
    default:
      return expected.kind;
  }
}

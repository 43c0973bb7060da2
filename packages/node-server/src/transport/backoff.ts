/**
 * Reconnect delay after `failures` consecutive failures: capped exponential, with "equal jitter"
 * (half fixed, half random) so that nodes restarted together do not redial in lockstep, yet
 * never retry faster than half the cap.
 */
export function backoffMs(failures: number, minMs: number, maxMs: number, random: () => number): number {
  const cap = Math.min(maxMs, minMs * 2 ** Math.min(failures, 30));
  return Math.round(cap / 2 + random() * (cap / 2));
}

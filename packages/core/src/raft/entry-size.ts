import type { Entry } from './types.js';

/** Per-entry overhead counted toward byte limits, so that empty entries are not free. */
export const ENTRY_OVERHEAD_BYTES = 24;

export function entryBytes(entry: Entry): number {
  return ENTRY_OVERHEAD_BYTES + entry.data.length;
}

export function payloadBytes(entries: readonly Entry[]): number {
  let total = 0;
  for (const entry of entries) total += entry.data.length;
  return total;
}

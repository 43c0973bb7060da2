import { setTimeout as sleep } from 'node:timers/promises';
import type { NemesisLog } from '../history/nemesis-log.js';
import type { ActiveFault, FaultContext } from './module.js';
import { nemeses, startFault } from './registry.js';
import type { NemesisKind } from './registry.js';

export interface ScheduleOptions extends FaultContext {
  readonly kind: NemesisKind;
  readonly log: NemesisLog;
  /** Each fault lasts faultS, then heal and wait recoverS. */
  readonly faultS: number;
  readonly recoverS: number;
  /** Quiet time before the first fault. */
  readonly leadInS: number;
  /** performance.now() at which the schedule ends (the fault in force is healed then). */
  readonly deadlineMs: number;
  /** Called with the name of the fault in force, or null. */
  readonly onNemesis?: (name: string | null) => void;
}

export interface ScheduleSummary {
  readonly faults: number;
}

/** Sleeps until `ms` passes or the deadline or an abort comes first. */
async function wait(ms: number, deadlineMs: number, signal: AbortSignal): Promise<void> {
  const left = Math.min(ms, deadlineMs - performance.now());
  if (left > 0) await sleep(left, undefined, { signal });
}

/**
 * Runs faults of `kind` back to back until the deadline: lead-in, then (fault for faultS, heal,
 * recover for recoverS) again and again. Each fault is one start/end period in nemesis.jsonl; the
 * end is recorded after the heal, with what the heal reported (or its error as `healError`, and
 * the error is thrown on). A fault in force when the deadline
 * comes, or when the run is aborted, is healed before this returns or throws.
 */
export async function runSchedule(o: ScheduleOptions): Promise<ScheduleSummary> {
  let faults = 0;
  if (nemeses[o.kind].start === null) {
    await wait(Infinity, o.deadlineMs, o.signal);
    return { faults };
  }
  await wait(o.leadInS * 1000, o.deadlineMs, o.signal);
  // A fault shorter than this is not worth starting before the deadline.
  const faultMsMin = Math.min(1000, o.faultS * 1000);
  while (o.deadlineMs - performance.now() >= faultMsMin && !o.signal.aborted) {
    let fault: ActiveFault | null = null;
    let healFailure: Error | null = null;
    try {
      fault = await startFault(o.kind, o);
      faults += 1;
      await o.log.start(fault.name, fault.detail);
      o.onNemesis?.(fault.name);
      await wait(o.faultS * 1000, o.deadlineMs, o.signal);
    } finally {
      if (fault !== null) healFailure = await healAndEnd(o, fault);
    }
    if (healFailure !== null) throw healFailure;
    await wait(o.recoverS * 1000, o.deadlineMs, o.signal);
  }
  return { faults };
}

/**
 * Heals the fault and ends its period with what the heal reported; a heal that throws still ends
 * it, with `healError`, and its error is returned for the caller to throw (unless an error of the
 * fault's own time is on its way already).
 */
async function healAndEnd(o: ScheduleOptions, fault: ActiveFault): Promise<Error | null> {
  let healed: Record<string, unknown>;
  try {
    healed = await fault.heal();
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    await o.log.end(fault.name, { ...fault.detail, healError: error.message });
    o.onNemesis?.(null);
    return error;
  }
  await o.log.end(fault.name, { ...fault.detail, ...healed });
  o.onNemesis?.(null);
  return null;
}

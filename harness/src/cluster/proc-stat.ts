import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** One letter from proc(5): R running, S sleeping, D disk wait, T stopped, t traced, Z zombie... */
  readonly state: string;
  /** Clock ticks since boot when the process started: with the pid, it names one process. */
  readonly startTime: string;
}

/** Reads /proc/<pid>/stat (Linux). null when there is no such process (or no /proc). */
export function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may itself contain ") ": fields follow the LAST ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTime = fields[19];
  if (state === undefined || startTime === undefined) return null;
  return { state, startTime };
}

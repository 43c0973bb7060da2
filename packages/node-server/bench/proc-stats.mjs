// What a server process costs, read from Linux's /proc: CPU time (utime + stime, all threads)
// and resident memory. Read by pid so that it works the same for kvapp's node processes and
// for etcd's, and costs nothing inside them.
import { readFileSync } from 'node:fs';

/** USER_HZ: /proc/<pid>/stat counts CPU time in these ticks (100 on every Linux we run on). */
const TICKS_PER_SECOND = 100;

/** User + system CPU time of a process so far, in microseconds; null once the process is gone. */
export function cpuUs(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * (1e6 / TICKS_PER_SECOND);
}

/**
 * Sum of cpuUs over processes; null when one of them is gone, because its CPU time went with it
 * and a difference over a window would come out too small, even negative.
 */
export function totalCpuUs(pids) {
  let total = 0;
  for (const pid of pids) {
    const us = cpuUs(pid);
    if (us === null) return null;
    total += us;
  }
  return total;
}

/** CPU microseconds spent between two totalCpuUs readings; null when either is unknown. */
export function cpuUsBetween(before, after) {
  return before === null || after === null ? null : after - before;
}

/** A field of /proc/<pid>/status in kB (VmRSS: now, VmHWM: the peak so far), in MB; null when unreadable. */
export function statusMb(pid, field) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) / 1024 : null;
}

/**
 * Samples each process's resident set every `intervalMs` until stopped, and keeps the largest
 * seen per process: the peak of one measured window, which VmHWM (a peak over the process's
 * whole life) cannot give.
 */
export function startRssSampler(pids, intervalMs = 100) {
  const peaks = pids.map(() => 0);
  const sample = () => {
    pids.forEach((pid, i) => {
      const mb = statusMb(pid, 'VmRSS');
      if (mb !== null && mb > peaks[i]) peaks[i] = mb;
    });
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    /** Stops sampling; the peak RSS of each process in MB, in the order of `pids`. */
    stop() {
      clearInterval(timer);
      sample();
      return [...peaks];
    },
  };
}

import { readFileSync } from 'node:fs';

/**
 * Resident memory of a process in bytes, from the VmRSS line of /proc/<pid>/status (Linux; the
 * line is in kB, so no page size is needed). null when there is no such process (or no /proc), or
 * no VmRSS line (a zombie has none).
 */
export function readRssBytes(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  return parseVmRss(text);
}

/** The VmRSS of a /proc/<pid>/status text, in bytes; null without the line. */
export function parseVmRss(status: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m === null ? null : Number(m[1]) * 1024;
}

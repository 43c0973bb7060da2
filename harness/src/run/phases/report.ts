import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeRunReport } from '../../report/write-run-report.js';
import type { RunContext } from '../run-context.js';
import { pointLatest } from '../run-folder.js';
import type { RunResultFile } from './check.js';

/** report.html via writeRunReport; a failure is reported in results.json, never faked. */
async function writeReport(dir: string): Promise<string | null> {
  try {
    await writeRunReport(dir);
    return null;
  } catch (err) {
    return `writeRunReport failed: ${(err as Error).stack ?? String(err)}`;
  }
}

/**
 * Phase `report`: report.html from the run folder, results.json again with the whole duration (and
 * reportError if the report failed), data/ removed after a passing run, `latest` pointed at it.
 */
export async function report(run: RunContext, checked: RunResultFile): Promise<RunResultFile> {
  run.progress.setPhase('report');
  const reportError = await writeReport(run.dir);
  let result: RunResultFile = { ...checked, durationMs: Date.now() - run.startedMs };
  if (reportError !== null) result = { ...result, reportError };
  // Data dirs are only worth keeping when the run needs a closer look.
  if (result.passed) rmSync(join(run.dir, 'data'), { recursive: true, force: true });
  writeFileSync(join(run.dir, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
  pointLatest(run.options.storeDir, run.dir);
  return result;
}

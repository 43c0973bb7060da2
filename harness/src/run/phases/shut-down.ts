import type { RunContext } from '../run-context.js';

/**
 * Whatever happened: no node and no proxy outlives this, and both logs are closed. Nodes get 2 s to
 * stop after a clean run, 200 ms after an error or an abort. Returns the run's error, or the first
 * error of the shut-down when the run had none.
 */
export async function shutDown(run: RunContext, error: string | undefined): Promise<string | undefined> {
  // A last sample while the nodes still run; then no more.
  run.rss.stop();
  try {
    await run.workload?.stop();
  } catch (err) {
    error ??= `workload stop failed: ${String(err)}`;
  }
  try {
    await run.cluster?.close(error === undefined ? 2000 : 200);
  } catch (err) {
    error ??= `cluster close failed: ${String(err)}`;
  }
  await run.recorder.close();
  await run.nemesisLog.close();
  run.detachSignal();
  return error;
}

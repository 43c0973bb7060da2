import { runSchedule } from '../../nemesis/schedule.js';
import { Workload } from '../../workload/workload.js';
import type { KvCluster } from '../kv-cluster.js';
import type { RunContext } from '../run-context.js';

const leadInS = 1;
const faultSDefault = 4;
const recoverSDefault = 2;
const opDeadlineMs = 1500;

/**
 * Phase `faults`: the workload runs while the scenario's nemesis starts and heals faults until the
 * time limit; the workload is stopped before this returns or throws. Returns the faults started.
 */
export async function runWorkloadAndNemesis(run: RunContext, cluster: KvCluster): Promise<number> {
  run.progress.setPhase('faults');
  const { spec } = run;
  const workload = new Workload({
    recorder: run.recorder,
    endpoints: cluster.clientEndpoints(),
    keys: spec.workload.keys,
    clients: spec.workload.clients,
    ...(spec.workload.rates === undefined ? {} : { rates: spec.workload.rates }),
    random: run.random,
    opDeadlineMs,
  });
  run.workload = workload;
  run.progress.watch(workload);
  workload.start();
  try {
    const summary = await runSchedule({
      kind: spec.nemesis,
      cluster,
      workload,
      random: run.nemesisRandom,
      signal: run.signal,
      clock: run.clock,
      log: run.nemesisLog,
      faultS: spec.faultS ?? faultSDefault,
      recoverS: spec.recoverS ?? recoverSDefault,
      leadInS,
      deadlineMs: performance.now() + run.timeLimitS * 1000,
      onNemesis: (n) => run.progress.setNemesis(n),
    });
    return summary.faults;
  } finally {
    await workload.stop();
  }
}

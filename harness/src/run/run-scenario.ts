import assert from 'node:assert/strict';
import { isNemesisKind, nemeses } from '../nemesis/registry.js';
import { check } from './phases/check.js';
import type { RunResultFile } from './phases/check.js';
import { runWorkloadAndNemesis } from './phases/faults.js';
import { finalReads } from './phases/final-reads.js';
import { heal } from './phases/heal.js';
import { report } from './phases/report.js';
import { setUp } from './phases/set-up.js';
import { shutDown } from './phases/shut-down.js';
import { RunAborted, RunContext } from './run-context.js';
import type { RunOptions, RunResult, ScenarioSpec } from './types.js';

export type { RunResultFile };

/**
 * Runs one scenario against real kvapp-node processes; see docs/chaos-contract.md. The phases run
 * in order (setup, faults, heal, final reads); the first error or the abort skips the rest of
 * them. Then, whatever happened: shut down, check, report.
 */
export async function runScenario(spec: ScenarioSpec, options: RunOptions): Promise<RunResult> {
  assert.match(spec.name, /^[a-z0-9]+(-[a-z0-9]+)*$/, `scenario name must be kebab-case: ${spec.name}`);
  const nodes = options.nodes ?? spec.nodes;
  const timeLimitS = options.timeLimitS ?? spec.timeLimitS;
  assert.ok(Number.isInteger(nodes) && nodes >= 1, `nodes must be a positive integer, got ${nodes}`);
  assert.ok(isNemesisKind(spec.nemesis), `unknown nemesis ${String(spec.nemesis)}`);
  const nodesMin = nemeses[spec.nemesis].nodesMin;
  assert.ok(nodes >= nodesMin, `nemesis ${spec.nemesis} needs at least ${nodesMin} nodes, got ${nodes}`);
  assert.ok(timeLimitS > 0, 'timeLimitS must be > 0');
  assert.ok(Number.isSafeInteger(options.seed), 'seed must be an integer');
  const run = new RunContext(spec, options, nodes, timeLimitS);

  let error: string | undefined;
  let faults = 0;
  try {
    const cluster = await setUp(run);
    faults = await runWorkloadAndNemesis(run, cluster);
    run.throwIfAborted();
    await heal(run, cluster);
    await finalReads(run, cluster);
  } catch (err) {
    error = err instanceof RunAborted || run.signal.aborted ? 'aborted' : ((err as Error).stack ?? String(err));
  }
  error = await shutDown(run, error);

  const checked = await check(run, error, faults);
  const result = await report(run, checked);
  run.progress.stopTicking();
  run.progress.setPhase('done');
  return result;
}

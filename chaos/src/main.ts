import { resolve } from 'node:path';
import { nemeses } from '@kvapp/harness';
import type { RunOptions, RunResult, ScenarioSpec } from '@kvapp/harness';
import { parseArgs, UsageError, type ChaosArgs } from './args.js';
import { ProgressLine } from './progress.js';
import { rssLine } from './rss-line.js';
import { profiles } from './scenarios.js';
import { outcome, resultsTable } from './table.js';
import { runTotals } from './totals-command.js';

export type Runner = (spec: ScenarioSpec, options: RunOptions) => Promise<RunResult>;

export interface MainIo {
  /** runScenario from @kvapp/harness; tests pass a fake. */
  readonly runner: Runner;
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  readonly isTTY: boolean;
  readonly columns?: number;
  /** Ctrl-C: the current run stops (verdict unknown) and no further run starts. */
  readonly signal?: AbortSignal;
}

/**
 * Exit codes: 0 every run passed (verdict === expect); 1 some run reached a verdict other than
 * the one expected (a real finding, so it wins over 2); 2 a usage error, an unknown verdict, a
 * harness error, or an abort.
 */
export const exitPassed = 0;
export const exitFailed = 1;
export const exitError = 2;

export interface PlannedRun {
  readonly spec: ScenarioSpec;
  readonly seed: number;
}

export function planRuns(args: ChaosArgs): PlannedRun[] {
  const profile = profiles[args.profile];
  const known = new Set(profile.scenarios.map((s) => s.name));
  const unknown = args.scenarios.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new UsageError(`unknown scenario ${unknown.join(', ')} in profile ${profile.name} (see --list)`, exitError);
  }
  const chosen = args.scenarios.length ? profile.scenarios.filter((s) => args.scenarios.includes(s.name)) : profile.scenarios;
  const nodes = args.nodes;
  if (nodes !== undefined) {
    // A nemesis cannot take its shape on fewer nodes than its module says (a bridge needs 3).
    const tooSmall = chosen.filter((s) => nodes < nemeses[s.nemesis].nodesMin);
    if (tooSmall.length > 0) {
      const needs = tooSmall.map((s) => `${s.name} needs ${nemeses[s.nemesis].nodesMin}`).join(', ');
      throw new UsageError(`--nodes ${nodes} is too few: ${needs} (choose scenarios with --scenario)`, exitError);
    }
  }
  const base = args.seed ?? profile.defaultSeed();
  const seeds = args.seeds ?? profile.seedsPerScenario;
  return chosen.flatMap((spec) => Array.from({ length: seeds }, (_, i) => ({ spec, seed: base + i })));
}

export function listScenarios(args: ChaosArgs): string {
  const profile = profiles[args.profile];
  const lines = profile.scenarios.map((s) => {
    const nodes = args.nodes ?? s.nodes;
    const time = args.timeLimitS ?? s.timeLimitS;
    return `${s.name.padEnd(26)} ${String(nodes)} nodes  ${String(time).padStart(4)} s  expect ${s.expect.padEnd(7)}  ${s.description}`;
  });
  return `profile ${profile.name}: ${profile.scenarios.length} scenarios × ${args.seeds ?? profile.seedsPerScenario} seed(s)\n${lines.join('\n')}\n`;
}

/** Runs the command with arguments after `node cli.js`; returns the exit code. */
export async function main(argv: readonly string[], io: MainIo): Promise<number> {
  let args: ChaosArgs;
  let plan: PlannedRun[];
  try {
    args = parseArgs(argv, io);
    if (args.totals) return runTotals(args, io);
    if (args.list) {
      io.out(listScenarios(args));
      return exitPassed;
    }
    plan = planRuns(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (!err.printed) io.err(`error: ${err.message}\n`);
    return err.exitCode;
  }
  const storeDir = resolve(args.store);
  io.out(`kvapp chaos: profile ${args.profile}, ${plan.length} run(s), seeds from ${plan[0]?.seed ?? '-'}, store ${storeDir}\n`);
  const progress = new ProgressLine(io.out, io.isTTY, io.columns);
  const results: RunResult[] = [];
  let aborted = false;
  for (const [i, run] of plan.entries()) {
    if (io.signal?.aborted) {
      aborted = true;
      break;
    }
    const label = `[${i + 1}/${plan.length}] ${run.spec.name} seed ${run.seed}`;
    const options: RunOptions = {
      seed: run.seed,
      storeDir,
      onProgress: (p) => progress.update(label, p),
      ...(args.timeLimitS !== undefined ? { timeLimitS: args.timeLimitS } : {}),
      ...(args.nodes !== undefined ? { nodes: args.nodes } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
    };
    let result: RunResult;
    try {
      result = await io.runner(run.spec, options);
    } catch (err) {
      result = crashed(run, storeDir, err);
    }
    progress.clear();
    results.push(result);
    io.out(
      `${label}: ${outcome(result)} — ${result.verdict} (expected ${result.expect}), ${result.ops?.total ?? 0} ops, ${(result.durationMs / 1000).toFixed(1)} s${result.error ? `, error: ${firstLine(result.error)}` : ''} → ${result.dir}\n`,
    );
    // What a nemesis measured (e.g. the snapshot's size and install time), one line per fault.
    for (const note of result.faultNotes ?? []) io.out(`  ${note}\n`);
    if (result.rssMb !== undefined) io.out(`  ${rssLine(result.rssMb)}\n`);
  }
  if (io.signal?.aborted) aborted = true;
  io.out(`\n${resultsTable(results)}\n\nrun folders (report.html in each):\n${results.map((r) => `  ${r.dir}`).join('\n')}\n`);
  const passed = results.filter((r) => outcome(r) === 'pass').length;
  const failed = results.length - passed + (aborted ? plan.length - results.length : 0);
  // .ci/run reads this line to count chaos runs as tests.
  io.out(`chaos: ${passed} passed, ${failed} failed${aborted ? ' (aborted)' : ''}\n`);
  if (results.some((r) => outcome(r) === 'FAIL')) return exitFailed;
  if (aborted || results.some((r) => outcome(r) === 'ERROR')) return exitError;
  return exitPassed;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.slice(0, 200);
}

/** A runner that threw (it should not: errors belong in RunResult.error) still gets a row. */
function crashed(run: PlannedRun, storeDir: string, err: unknown): RunResult {
  return {
    scenario: run.spec.name,
    seed: run.seed,
    dir: storeDir,
    nodes: run.spec.nodes,
    startedAt: new Date().toISOString(),
    durationMs: 0,
    verdict: 'unknown',
    expect: run.spec.expect,
    passed: false,
    checker: { valid: 'unknown', ops: 0, keys: 0, ms: 0, failedKeys: [] },
    ackedWrites: { checked: 0, lost: 0, lostKeys: [] },
    ops: { total: 0, ok: 0, fail: 0, info: 0, byF: {} },
    availability: [],
    latencyMs: { p50: 0, p90: 0, p99: 0, max: 0 },
    error: `runner threw: ${(err as Error)?.stack ?? String(err)}`,
  };
}

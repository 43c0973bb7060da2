#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { eventsJsonl } from '@kvapp/checker';
import { createRequire } from 'node:module';
import { describeFailure, replayCommand, replayTest } from './report.js';
import { checkSchedule, type Fault } from './schedule.js';
import { describeExpectedFailure, expectedFailureOf, failureMatches } from './expected-failure.js';
import { historyCheckStepsMax } from './history-check.js';
import { plantedBugFailures, plantedBugs, type PlantedBug } from './planted-bugs.js';
import { shrinkSchedule } from './shrink.js';
import { runSimulation, type SimResult } from './simulation.js';

const usage = `usage: kvapp-sim [--seeds N] [--seed S] [--bug NAME]... [--schedule JSON] [--shrink] [--history FILE] [--timeline]
  --seeds N      run N seeds (default 1 with --seed, else 100), starting at --seed (default 1)
  --seed S       the first (or only) seed; a failure prints the command that replays it
  --bug NAME     plant a bug: ${plantedBugs.join(', ')}
  --schedule J   run this fault schedule (JSON array) instead of the seed's own
  --shrink       shrink each failing schedule, keeping its kind of failure, and print it as a replayable test
  --history F    write the last run's history (JSON Lines) to F
  --timeline     print each failing run's timeline of faults and leaders
  -h, --help     print this help and exit
  --version      print the version and exit
In the repository, \`npm run sim -- ARGS\` builds first and takes the same arguments.`;

interface Args {
  seeds: number;
  seed: number;
  bugs: PlantedBug[];
  schedule: Fault[] | null;
  shrink: boolean;
  history: string | null;
  timeline: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { seeds: 0, seed: 1, bugs: [], schedule: null, shrink: false, history: null, timeline: false };
  let seedGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--seeds':
        args.seeds = integer(flag, value(), 1);
        break;
      case '--seed':
        args.seed = integer(flag, value(), 0);
        seedGiven = true;
        break;
      case '--bug': {
        const bug = value();
        if (!(plantedBugs as readonly string[]).includes(bug)) throw new UsageError(`unknown bug ${bug}`);
        args.bugs.push(bug as PlantedBug);
        break;
      }
      case '--schedule': {
        let parsed: unknown;
        try {
          parsed = JSON.parse(value());
        } catch {
          throw new UsageError('--schedule must be JSON');
        }
        const bad = checkSchedule(parsed as Fault[]);
        if (bad !== null) throw new UsageError(`--schedule: ${bad}`);
        args.schedule = parsed as Fault[];
        break;
      }
      case '--shrink':
        args.shrink = true;
        break;
      case '--history':
        args.history = value();
        break;
      case '--timeline':
        args.timeline = true;
        break;
      case '--help':
      case '-h':
        process.stdout.write(`${usage}\n`);
        process.exit(0);
        break;
      case '--version':
        // Read when asked, from the package's own package.json, so it is always the installed one.
        process.stdout.write(`${(createRequire(import.meta.url)('../package.json') as { version: string }).version}\n`);
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown argument ${flag}`);
    }
  }
  if (args.seeds === 0) args.seeds = seedGiven ? 1 : 100;
  if (args.seed + args.seeds > 0x1_0000_0000) throw new UsageError('seeds must stay below 2^32');
  return args;
}

function integer(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}`);
  return n;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  let lastProgress = started;
  const failures: SimResult[] = [];
  let unknown = 0;
  let searchStepsMost = 0;
  const totals = { ops: 0, ok: 0, fail: 0, info: 0, crashes: 0, messages: 0, simulatedMs: 0 };
  let last: SimResult | null = null;
  for (let i = 0; i < args.seeds; i++) {
    const seed = args.seed + i;
    const result = await runSimulation({ seed, bugs: args.bugs, ...(args.schedule ? { schedule: args.schedule } : {}) });
    last = result;
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += result.stats[k];
    if (result.historyValid === 'unknown') unknown++;
    searchStepsMost = Math.max(searchStepsMost, result.historyVerdict?.searchSteps ?? 0);
    if (result.failure !== null) {
      failures.push(result);
      await reportFailure(result, args);
    }
    const now = performance.now();
    if (now - lastProgress >= 1000 || i === args.seeds - 1) {
      lastProgress = now;
      const rate = (i + 1) / ((now - started) / 1000);
      process.stderr.write(
        `[${String(i + 1).padStart(String(args.seeds).length)}/${args.seeds}] seed ${seed}  ${rate.toFixed(1)} seeds/s  failures ${failures.length}\n`,
      );
    }
  }
  if (args.history !== null && last !== null) writeFileSync(args.history, eventsJsonl(last.history));
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    [
      `seeds ${args.seeds} (${args.seed}..${args.seed + args.seeds - 1})${args.bugs.length ? `, bugs: ${args.bugs.join(', ')}` : ''}`,
      `failures ${failures.length}${failures.length ? `: seeds ${failures.map((f) => f.seed).join(', ')}` : ''}`,
      `checker verdicts unknown (failures) ${unknown}; largest search on a key ${searchStepsMost} steps (budget ${historyCheckStepsMax})`,
      `ops ${totals.ops} (ok ${totals.ok}, fail ${totals.fail}, info ${totals.info}), crashes ${totals.crashes}, messages ${totals.messages}`,
      `simulated ${(totals.simulatedMs / 1000).toFixed(1)} s in ${seconds.toFixed(1)} s: ${(args.seeds / seconds).toFixed(1)} seeds/s`,
    ].join('\n') + '\n',
  );
  return failures.length > 0 ? 1 : 0;
}

async function reportFailure(result: SimResult, args: Args): Promise<void> {
  const out = process.stdout;
  out.write(`\nFAIL seed ${result.seed}: ${describeFailure(result.failure!)}\n`);
  out.write(`  replay: ${replayCommand(result.seed, result.bugs, args.schedule)}\n`);
  const failure = result.failure!;
  const [bug] = result.bugs;
  if (result.bugs.length === 1 && bug !== undefined && !failureMatches(failure, plantedBugFailures[bug])) {
    out.write(`  note: ${bug} is planted to cause ${describeExpectedFailure(plantedBugFailures[bug])}; this is another failure\n`);
  }
  if (args.timeline) out.write(result.timeline.map((line) => `    ${line}\n`).join(''));
  if (!args.shrink) return;
  // The shrunk schedule must fail the same way (kind, and invariant): not just fail.
  const keep = expectedFailureOf(failure);
  const shrunk = await shrinkSchedule({ seed: result.seed, bugs: result.bugs, keep }, result.schedule);
  if (shrunk === null) {
    out.write('  shrink: the failure did not reproduce (this is a bug in the simulator: runs must be deterministic)\n');
    return;
  }
  out.write(
    `  shrunk from ${result.schedule.length} to ${shrunk.schedule.length} faults in ${shrunk.runs} runs ` +
      `(keeping ${describeExpectedFailure(keep)}; ${shrunk.otherFailures} smaller schedules failed otherwise): ${describeFailure(shrunk.failure)}\n`,
  );
  out.write(`  replay: ${replayCommand(result.seed, result.bugs, shrunk.schedule)}\n`);
  out.write(`  as a test:\n${replayTest(result.seed, result.bugs, shrunk.schedule, shrunk.failure).replace(/^/gm, '    ')}\n`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`kvapp-sim: ${error.message}\n${usage}\n`);
      process.exit(2);
    }
    throw error;
  },
);

import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { isProfileName, type ProfileName } from './scenarios.js';

export interface ChaosArgs {
  readonly profile: ProfileName;
  readonly list: boolean;
  /** Print the totals of every run folder under the store instead of running anything. */
  readonly totals: boolean;
  /** The totals as JSON. */
  readonly json: boolean;
  /** Empty: every scenario of the profile. */
  readonly scenarios: readonly string[];
  readonly seed?: number;
  /** Seeds per scenario instead of the profile's (a soak is one long run: --seeds 1). */
  readonly seeds?: number;
  readonly nodes?: number;
  readonly timeLimitS?: number;
  readonly store: string;
}

/** A usage problem: the message is for the user; the command exits 2. `exitCode` 0 for --help. */
export class UsageError extends Error {
  /** `printed`: the message was already written (commander does so for its own errors). */
  constructor(
    message: string,
    readonly exitCode: number,
    readonly printed = false,
  ) {
    super(message);
  }
}

const nodesMax = 9;
/** Enough for any night; a typo such as 1000 would queue days of runs. */
const seedsMax = 100;

function integer(name: string, min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    }
    return n;
  };
}

function positive(raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number of seconds > 0');
  return n;
}

/** The package's own version, read at run time so that it is always the installed one. */
function packageVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

/** Parses the arguments after `node cli.js`. Help and errors go to `write`; throws UsageError. */
export function parseArgs(argv: readonly string[], write: { out: (s: string) => void; err: (s: string) => void }): ChaosArgs {
  const program = new Command('kvapp-chaos')
    .description(
      'Runs the chaos suite against real kvapp-node clusters and checks every history.\nIn the repository, `npm run chaos -- ARGS` builds first and takes the same arguments.',
    )
    .version(packageVersion(), '--version', 'print the version and exit')
    .option('--profile <name>', 'ci (every fault once, ~7 min) or nightly (long, 5 nodes, several seeds)', 'ci')
    .option('--list', 'list the scenarios of the profile and exit', false)
    .option('--scenario <name>', 'run only this scenario (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--seed <n>', 'base seed (each scenario uses seed, seed+1, ...)', integer('--seed', 0, 2 ** 31 - 1))
    .option('--seeds <n>', "seeds per scenario instead of the profile's (ci 1, nightly 3)", integer('--seeds', 1, seedsMax))
    .option('--nodes <n>', 'override the number of nodes of every scenario', integer('--nodes', 1, nodesMax))
    .option('--time-limit <s>', 'override seconds of workload under faults', positive)
    .option('--store <dir>', 'where run folders go', 'store')
    .option(
      '--totals',
      'run nothing: add up every run folder under --store (runs, kill -9 / power-cut rounds, partition and pause periods, ops, acknowledged writes, anomalies, node RSS); --scenario keeps only those scenarios; exit 1 on an anomaly',
      false,
    )
    .option('--json', 'with --totals: print the totals as JSON', false)
    .addHelpText(
      'after',
      [
        '',
        'Long runs (chaos/README.md):',
        '  the nightly in parts (same --seed and --store for every part):',
        '    kvapp-chaos --profile nightly --seed 20261202 --store night --scenario kill --scenario pause',
        '  a 30-minute soak of the mix on 5 nodes:',
        '    kvapp-chaos --profile nightly --scenario mix --nodes 5 --seeds 1 --time-limit 1800 --seed 7 --store night',
        '  their totals:',
        '    kvapp-chaos --totals --store night [--json]',
      ].join('\n'),
    )
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: write.out, writeErr: write.err });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      throw new UsageError(err.message, err.exitCode === 0 ? 0 : 2, true);
    }
    throw err;
  }
  const o = program.opts<{
    profile: string;
    list: boolean;
    totals: boolean;
    json: boolean;
    scenario: string[];
    seed?: number;
    seeds?: number;
    nodes?: number;
    timeLimit?: number;
    store: string;
  }>();
  if (o.json && !o.totals) {
    write.err('error: --json goes with --totals\n');
    throw new UsageError('--json without --totals', 2, true);
  }
  if (!isProfileName(o.profile)) {
    write.err(`error: unknown profile '${o.profile}' (ci or nightly)\n`);
    throw new UsageError(`unknown profile ${o.profile}`, 2, true);
  }
  return {
    profile: o.profile,
    list: o.list,
    totals: o.totals,
    json: o.json,
    scenarios: o.scenario,
    store: o.store,
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.seeds !== undefined ? { seeds: o.seeds } : {}),
    ...(o.nodes !== undefined ? { nodes: o.nodes } : {}),
    ...(o.timeLimit !== undefined ? { timeLimitS: o.timeLimit } : {}),
  };
}

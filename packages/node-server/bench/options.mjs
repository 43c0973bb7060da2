// The bench's command line: what to measure, how long and how often. Bad flags end in one line
// naming the flag, before anything is started.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const WORKLOADS = ['put', 'get-lin', 'get-ser'];
export const ETCD_CLIENTS = ['grpc', 'http'];

export const USAGE = `npm run bench -- [flags]     (or: node packages/node-server/bench/bench.mjs [flags] after npm run build)
  --vs etcd                 also run etcd 3.4 (ETCD_BIN, else etcd on PATH, else Debian's etcd-server,
                            installed when missing) under the same shape, alternating run by run
  --etcd-clients grpc,http  etcd's clients to try; the comparison uses whichever did more [grpc,http]
  --baseline DIR            also run the kvapp nodes of another built checkout (DIR, e.g. a clone
                            of main after npm ci && npm run build) as kvapp-baseline, alternating,
                            and print kvapp / kvapp-baseline: a change measured against what it
                            replaces in the same run (the load processes use this checkout's client)
  --workloads LIST          put, get-lin, get-ser [put,get-lin,get-ser]
  --concurrency LIST        requests in flight in all, over every load process [1,16,64,256]
  --procs N                 load processes, each a separate node process [2]
  --warmup S / --duration S warm-up, then the measured window, per case [1 / 4]
  --runs N                  repetitions; every figure is the median over runs [3]
  --keys N                  keyspace, preloaded before each run [10000]
  --key-bytes N / --value-bytes N                                   [16 / 128]
  --json FILE               write {"results":[...], ...} to FILE
  --help`;

export class UsageError extends Error {}

/** Where a checkout's built kvapp-node is, relative to its root. */
export const BASELINE_CLI = 'packages/node-server/dist/cli.js';

/** The system name of `--baseline`'s nodes. */
export const BASELINE_SYSTEM = 'kvapp-baseline';

const positiveInt = (flag, text, min = 1) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag} wants an integer >= ${min}, got '${text}'`);
  return n;
};
const seconds = (flag, text, zeroAllowed) => {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !zeroAllowed))
    throw new UsageError(`--${flag} wants seconds ${zeroAllowed ? '>= 0' : '> 0'}, got '${text}'`);
  return n;
};
const listOf = (flag, text, allowed) => {
  const items = text.split(',').filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${flag} wants a comma-separated list`);
  for (const item of items)
    if (!allowed.includes(item)) throw new UsageError(`--${flag}: unknown '${item}' (known: ${allowed.join(', ')})`);
  return [...new Set(items)];
};

/** The bench's options from its arguments; throws UsageError on a bad flag; null for --help. */
export function parseBenchArgs(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        vs: { type: 'string' },
        baseline: { type: 'string' },
        'etcd-clients': { type: 'string', default: ETCD_CLIENTS.join(',') },
        workloads: { type: 'string', default: WORKLOADS.join(',') },
        concurrency: { type: 'string', default: '1,16,64,256' },
        procs: { type: 'string', default: '2' },
        warmup: { type: 'string', default: '1' },
        duration: { type: 'string', default: '4' },
        runs: { type: 'string', default: '3' },
        keys: { type: 'string', default: '10000' },
        'key-bytes': { type: 'string', default: '16' },
        'value-bytes': { type: 'string', default: '128' },
        json: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError(error.message);
  }
  if (values.help) return null;
  if (values.vs !== undefined && values.vs !== 'etcd') throw new UsageError(`--vs: only 'etcd' is known, got '${values.vs}'`);
  const keys = positiveInt('keys', values.keys);
  const keyBytes = positiveInt('key-bytes', values['key-bytes'], 2);
  if (String(keys - 1).length + 1 > keyBytes) throw new UsageError(`--key-bytes ${keyBytes} cannot hold ${keys} distinct keys`);
  let baselineCli = null;
  if (values.baseline !== undefined) {
    baselineCli = resolve(values.baseline, BASELINE_CLI);
    if (!existsSync(baselineCli))
      throw new UsageError(`--baseline: no ${baselineCli} (build that checkout first: npm ci && npm run build)`);
  }
  return {
    vsEtcd: values.vs === 'etcd',
    baselineCli,
    etcdClients: listOf('etcd-clients', values['etcd-clients'], ETCD_CLIENTS),
    workloads: listOf('workloads', values.workloads, WORKLOADS),
    concurrency: [...new Set(values.concurrency.split(',').map((c) => positiveInt('concurrency', c)))],
    procs: positiveInt('procs', values.procs),
    warmupS: seconds('warmup', values.warmup, true),
    durationS: seconds('duration', values.duration, false),
    runs: positiveInt('runs', values.runs),
    keys,
    keyBytes,
    valueBytes: positiveInt('value-bytes', values['value-bytes']),
    json: values.json ?? null,
  };
}

/**
 * The flags of a small bench (compression-bench, codec-bench): parsed strictly, then checked by
 * `check` (an error message, or null). Anything wrong ends the process with one line naming the
 * bench, and exit 2, before anything is measured.
 */
export function smallBenchFlags(name, options, check) {
  let values;
  try {
    ({ values } = parseArgs({ options, strict: true, allowPositionals: false }));
  } catch (error) {
    exitWithUsage(name, error.message.split('\n')[0]);
  }
  const problem = check(values);
  if (problem !== null) exitWithUsage(name, problem);
  return values;
}

function exitWithUsage(name, message) {
  console.error(`${name}: ${message}`);
  process.exit(2);
}

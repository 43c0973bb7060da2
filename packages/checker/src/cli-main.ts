import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { checkHistory, threadsAheadOf, type CheckResult } from './check.js';
import { HistoryError } from './history-error.js';
import type { History } from './history.js';
import { readHistoryFile } from './read-history.js';
import { describeOperation, show } from './witness.js';

/** Exit codes of docs/kvapp-check.md. */
export const exitLinearizable = 0;
export const exitNotLinearizable = 1;
export const exitUnknown = 2;
export const exitUnreadable = 3;

const usage = 'usage: kvapp-check <history.jsonl | history.jsonl.gz | -> [--json] [--timeout S] [--report out.html] [--threads N]';

const help = `${usage}

Checks that a history of read, write and cas operations is linearizable, key by key.
  -                 read the history from standard input
  --json            print the verdict as one JSON object
  --timeout S       give up after S seconds: verdict unknown (exit 2)
  --report FILE     write an HTML report of the history and the verdict
  --threads N       check keys on N threads (1 to 64, default 1)
  -h, --help        print this help and exit
  --version         print the version and exit
Exit codes: 0 linearizable, 1 not linearizable, 2 unknown (timed out), 3 unreadable input or usage.
`;

/** The package's own version, read when asked so that it is always the installed one. */
function packageVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

/** `--help` or `--version` asked for: print it and do nothing else. */
export interface InfoRequest {
  readonly show: 'help' | 'version';
}

export interface CliArgs {
  readonly path: string;
  readonly json: boolean;
  readonly timeoutMs?: number;
  readonly report?: string;
  /** Threads to check keys on (default 1; see CheckOptions.threads). */
  readonly threads?: number;
}

export function parseArgs(argv: readonly string[]): CliArgs | InfoRequest | string {
  let path: string | undefined;
  let json = false;
  let timeoutMs: number | undefined;
  let report: string | undefined;
  let threads: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return { show: 'help' };
    if (a === '--version') return { show: 'version' };
    if (a === '--json') json = true;
    else if (a === '--timeout' || a.startsWith('--timeout=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      const s = Number(v);
      if (v === undefined || v === '' || !Number.isFinite(s) || s <= 0)
        return `--timeout needs a positive number of seconds, got ${JSON.stringify(v)}`;
      timeoutMs = s * 1000;
    } else if (a === '--report' || a.startsWith('--report=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (!v) return '--report needs a file name';
      report = v;
    } else if (a === '--threads' || a.startsWith('--threads=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      const n = Number(v);
      if (v === undefined || v === '' || !Number.isSafeInteger(n) || n < 1 || n > 64)
        return `--threads needs a whole number from 1 to 64, got ${JSON.stringify(v)}`;
      threads = n;
    } else if (a === '-' || !a.startsWith('-')) {
      if (path !== undefined) return `more than one history given: ${path} and ${a}`;
      path = a;
    } else return `unknown option ${a}`;
  }
  if (path === undefined) return 'no history given';
  return {
    path,
    json,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(report !== undefined ? { report } : {}),
    ...(threads !== undefined ? { threads } : {}),
  };
}

export async function main(argv: readonly string[]): Promise<number> {
  const started = performance.now();
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`kvapp-check: ${args}\n${usage}\n`);
    return exitUnreadable;
  }
  if ('show' in args) {
    process.stdout.write(args.show === 'help' ? help : `${packageVersion()}\n`);
    return exitLinearizable;
  }
  // Worker threads (with --threads) start now, so they are ready when reading a large file is done.
  const workers = threadsAheadOf(args.path, args.threads ?? 1);
  let history: History;
  try {
    history = await readHistoryFile(args.path);
  } catch (err) {
    workers?.close();
    if (!(err instanceof HistoryError)) throw err;
    process.stderr.write(`kvapp-check: ${args.path}: ${err.message} [${err.code}]\n`);
    return exitUnreadable;
  }
  const result = await checkHistory(
    history,
    {
      ...(args.timeoutMs !== undefined ? { timeoutMs: args.timeoutMs } : {}),
      ...(args.threads !== undefined ? { threads: args.threads } : {}),
      ...(workers ? { workers } : {}),
    },
    started,
  );
  if (args.report !== undefined) {
    // Loaded only when asked for: most runs need no report.
    const { renderReport } = await import('./report.js');
    writeFileSync(args.report, renderReport(history, result, args.path));
  }
  const out = args.json
    ? JSON.stringify({ valid: result.valid, ops: result.ops, keys: result.keys, ms: result.ms, failedKeys: result.failedKeys }) + '\n'
    : human(result, history);
  process.stdout.write(out);
  return result.valid === true ? exitLinearizable : result.valid === false ? exitNotLinearizable : exitUnknown;
}

/** How many steps of a witness prefix the text output shows. */
const prefixShownMax = 8;

function human(r: CheckResult, history: History): string {
  const head = `${r.ops} operations on ${r.keys} keys, checked in ${r.ms} ms`;
  if (r.valid === true) return `linearizable: ${head}\n`;
  if (r.valid === 'unknown')
    return `unknown (timed out): ${head}; unfinished keys: ${r.unknownKeys.map((k) => JSON.stringify(k)).join(', ')}\n`;
  const byId = history.operations;
  let text = `NOT linearizable: ${head}; failing keys: ${r.failedKeys.map((k) => JSON.stringify(k)).join(', ')}\n`;
  for (const w of r.witnesses) {
    text += `\n${w.message}\n`;
    const from = Math.max(0, w.prefix.length - prefixShownMax);
    if (from > 0) text += `  ... ${from} earlier steps\n`;
    for (let i = from; i < w.prefix.length; i++) {
      text += `  ${i + 1}. ${describeOperation(byId[w.prefix[i]!]!)}  ⇒ value ${show(w.valuesAfter[i]!)}\n`;
    }
    if (w.blocked !== null) text += `  ✗ ${describeOperation(byId[w.blocked]!)}\n`;
  }
  return text;
}

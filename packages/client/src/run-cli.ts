import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { KvClient } from './client.js';
import type { EndpointHealth, Outcome, StatusOutcome } from './outcome.js';
import { FRAME_BYTES_MAX_DEFAULT } from './protocol.js';
import { readValue, StdinValueError } from './stdin-value.js';

/** Exit codes: people read the message, scripts read these. */
export const EXIT = { ok: 0, fail: 1, indeterminate: 2, usage: 3 } as const;

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Where KVAPP_ENDPOINTS is looked up (process.env by default). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** What a value of `-` is read from (process.stdin by default). */
  readonly stdin?: AsyncIterable<Uint8Array | string>;
}

const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** The environment variable that stands in for --endpoints, as ETCDCTL_ENDPOINTS does for etcdctl. */
export const ENDPOINTS_ENV = 'KVAPP_ENDPOINTS';

/**
 * The most a value of `-` may read from standard input: what one request frame carries. A value
 * that large is still refused by the node if it exceeds the node's own value limit.
 */
export const STDIN_VALUE_BYTES_MAX = FRAME_BYTES_MAX_DEFAULT;

interface GlobalOptions {
  endpoints?: string;
  deadlineMs: number;
  json: boolean;
}

/** Runs `kvapp <args>` and resolves to the exit code. Never throws for a user's mistake. */
export async function runCli(args: readonly string[], io: CliIo = processIo): Promise<number> {
  const env = io.env ?? process.env;
  let code: number = EXIT.ok;
  const program = new Command('kvapp')
    .description('Talk to a kvapp cluster.')
    .version(packageVersion(), '--version', 'print the version and exit')
    .option('--endpoints <list>', `comma-separated client addresses, host:port,host:port (default: $${ENDPOINTS_ENV})`)
    .addOption(new Option('--deadline-ms <ms>', 'give up (indeterminate or fail) after this long').default(5000).argParser(positiveInt))
    .option('--json', 'print the outcome as one JSON object', false)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError()
    .addHelpText(
      'after',
      `\nA value of - is read from standard input (at most ${STDIN_VALUE_BYTES_MAX} bytes, taken as they are).\nExit codes: 0 ok, 1 not applied, 2 outcome unknown, 3 usage.`,
    );

  const withClient = async (fn: (client: KvClient, g: GlobalOptions) => Promise<number>): Promise<void> => {
    const g = program.opts<GlobalOptions>();
    const given = g.endpoints ?? env[ENDPOINTS_ENV];
    const from = g.endpoints !== undefined ? '--endpoints' : ENDPOINTS_ENV;
    if (given === undefined) {
      io.err(`kvapp: no endpoints: give --endpoints host:port[,host:port...] or set ${ENDPOINTS_ENV}`);
      code = EXIT.usage;
      return;
    }
    const endpoints = given
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (endpoints.length === 0 || endpoints.some((e) => !/^[^\s:]+:\d{1,5}$/.test(e))) {
      io.err(`kvapp: ${from} must be host:port[,host:port...], got "${given}"`);
      code = EXIT.usage;
      return;
    }
    // A person waits for this answer: when nothing listens on any endpoint, say so at once.
    const client = new KvClient({ endpoints, opDeadlineMs: g.deadlineMs, giveUpWhenAllRefused: true });
    try {
      code = await fn(client, g);
    } finally {
      client.close();
    }
  };

  /** The value argument, or standard input for `-`; null (and the exit code set) when unreadable. */
  const valueOf = async (value: string, what: string): Promise<string | null> => {
    if (value !== '-') return value;
    try {
      return await readValue(io.stdin ?? process.stdin, STDIN_VALUE_BYTES_MAX);
    } catch (err) {
      if (!(err instanceof StdinValueError)) throw err;
      io.err(`${what}: ${err.message}`);
      code = EXIT.usage;
      return null;
    }
  };

  program
    .command('get <key>')
    .description('print the value of key (linearizable unless --serializable)')
    .option('--serializable', 'read from any node, possibly stale', false)
    .action((key: string, o: { serializable: boolean }) =>
      withClient(async (c, g) => report(await c.get(key, { read: o.serializable ? 'serializable' : 'linearizable' }), g, io, `get ${key}`)),
    );
  program
    .command('put <key> <value>')
    .description('set key to value (- reads the value from standard input)')
    .action(async (key: string, value: string) => {
      const v = await valueOf(value, `put ${key}`);
      if (v !== null) await withClient(async (c, g) => report(await c.put(key, v), g, io, `put ${key}`));
    });
  program
    .command('delete <key>')
    .description('remove key')
    .action((key: string) => withClient(async (c, g) => report(await c.delete(key), g, io, `delete ${key}`)));
  program
    .command('cas <key> <value>')
    .description('set key to value (- reads it from standard input) only if it holds --expected (or is absent, with --absent)')
    .option('--expected <old>', 'the value key must hold')
    .option('--absent', 'key must be absent', false)
    .action(async (key: string, value: string, o: { expected?: string; absent: boolean }) => {
      if ((o.expected === undefined) === !o.absent) {
        io.err('kvapp cas: give exactly one of --expected <old> or --absent');
        code = EXIT.usage;
        return;
      }
      const v = await valueOf(value, `cas ${key}`);
      if (v !== null) await withClient(async (c, g) => report(await c.cas(key, o.absent ? null : o.expected!, v), g, io, `cas ${key}`));
    });

  const printStatus = (json: boolean) =>
    withClient(async (c) => {
      const all = await c.statusAll();
      if (json) io.out(JSON.stringify(all));
      else for (const s of all) io.out(statusLine(s));
      return all.some((s) => s.ok) ? EXIT.ok : EXIT.fail;
    });

  program
    .command('status')
    .description("print each node's view of the cluster (the same as endpoint status)")
    .action(() => printStatus(program.opts<GlobalOptions>().json));

  const endpoint = program.command('endpoint').description('ask each endpoint about itself, as etcdctl endpoint does');
  endpoint
    .command('health')
    .description('whether each endpoint is reachable, answers and knows a leader; exit 1 unless all are healthy')
    .option('--json', 'print one JSON array', false)
    .action((o: { json: boolean }) =>
      withClient(async (c, g) => {
        const all = await c.healthAll();
        if (o.json || g.json) io.out(JSON.stringify(all));
        else for (const h of all) io.out(healthLine(h));
        return all.every((h) => h.healthy) ? EXIT.ok : EXIT.fail;
      }),
    );
  endpoint
    .command('status')
    .description("each endpoint's node id, role, term, leader id, commit and applied index; exit 1 if none answers")
    .option('--json', 'print one JSON array', false)
    .action((o: { json: boolean }) => printStatus(o.json || program.opts<GlobalOptions>().json));

  try {
    await program.parseAsync([...args], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help'
        ? EXIT.ok
        : EXIT.usage;
    }
    throw err;
  }
  return code;
}

function statusLine(s: StatusOutcome): string {
  if (!s.ok) return `${s.endpoint}  unreachable: ${s.message}`;
  const st = s.status;
  const leader = st.leaderId === null ? '(none)' : st.leader === null ? `${st.leaderId}` : `${st.leaderId} (${st.leader})`;
  return `${s.endpoint}  node ${st.nodeId}  ${st.role}  term ${st.term}  leader ${leader}  commit ${st.commitIndex}  applied ${st.appliedIndex}`;
}

function healthLine(h: EndpointHealth): string {
  return h.healthy
    ? `${h.endpoint} is healthy`
    : `${h.endpoint} is unhealthy: ${h.reachable ? '' : 'unreachable, '}${h.error ?? 'no answer'}`;
}

function report(o: Outcome, g: GlobalOptions, io: CliIo, what: string): number {
  if (g.json) io.out(JSON.stringify(o));
  switch (o.status) {
    case 'ok':
      if (!g.json) {
        if (o.value !== undefined) {
          if (o.value === null) io.err(`${what}: key is absent`);
          else io.out(o.value);
        } else io.out(o.prev === null || o.prev === undefined ? 'ok (key was absent)' : `ok (previous value: ${o.prev})`);
      }
      return EXIT.ok;
    case 'fail':
      if (o.error.code === 'cas_mismatch') {
        io.err(
          `${what}: not applied, the key holds ${o.error.current === null || o.error.current === undefined ? 'nothing (absent)' : JSON.stringify(o.error.current)}`,
        );
      } else io.err(`${what}: not applied (${o.error.code}): ${o.error.message}`);
      return EXIT.fail;
    case 'indeterminate':
      io.err(`${what}: outcome unknown, it may or may not have been applied: ${o.reason}`);
      return EXIT.indeterminate;
  }
}

/** The package's own version, read at run time so that it is always the installed one. */
function packageVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

function positiveInt(s: string): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${s}"`);
  return n;
}

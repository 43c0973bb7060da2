import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { KvClient } from './client.js';
import type { Outcome } from './outcome.js';

/** Exit codes: people read the message, scripts read these. */
export const EXIT = { ok: 0, fail: 1, indeterminate: 2, usage: 3 } as const;

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

interface GlobalOptions {
  endpoints: string;
  deadlineMs: number;
  json: boolean;
}

/** Runs `kvapp <args>` and resolves to the exit code. Never throws for a user's mistake. */
export async function runCli(args: readonly string[], io: CliIo = processIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('kvapp')
    .description('Talk to a kvapp cluster.')
    .version(packageVersion(), '--version', 'print the version and exit')
    .requiredOption('--endpoints <list>', 'comma-separated client addresses, host:port,host:port')
    .addOption(new Option('--deadline-ms <ms>', 'give up (indeterminate or fail) after this long').default(5000).argParser(positiveInt))
    .option('--json', 'print the outcome as one JSON object', false)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError();

  const withClient = async (fn: (client: KvClient, g: GlobalOptions) => Promise<number>): Promise<void> => {
    const g = program.opts<GlobalOptions>();
    const endpoints = g.endpoints.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (endpoints.length === 0 || endpoints.some((e) => !/^[^\s:]+:\d{1,5}$/.test(e))) {
      io.err(`kvapp: --endpoints must be host:port[,host:port...], got "${g.endpoints}"`);
      code = EXIT.usage;
      return;
    }
    const client = new KvClient({ endpoints, opDeadlineMs: g.deadlineMs });
    try {
      code = await fn(client, g);
    } finally {
      client.close();
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
    .description('set key to value')
    .action((key: string, value: string) => withClient(async (c, g) => report(await c.put(key, value), g, io, `put ${key}`)));
  program
    .command('delete <key>')
    .description('remove key')
    .action((key: string) => withClient(async (c, g) => report(await c.delete(key), g, io, `delete ${key}`)));
  program
    .command('cas <key> <value>')
    .description('set key to value only if it holds --expected (or is absent, with --absent)')
    .option('--expected <old>', 'the value key must hold')
    .option('--absent', 'key must be absent', false)
    .action((key: string, value: string, o: { expected?: string; absent: boolean }) => {
      if ((o.expected === undefined) === !o.absent) {
        io.err('kvapp cas: give exactly one of --expected <old> or --absent');
        code = EXIT.usage;
        return;
      }
      return withClient(async (c, g) => report(await c.cas(key, o.absent ? null : o.expected!, value), g, io, `cas ${key}`));
    });
  program
    .command('status')
    .description("print each node's view of the cluster")
    .action(() =>
      withClient(async (c, g) => {
        const all = await c.statusAll();
        if (g.json) io.out(JSON.stringify(all));
        else {
          for (const s of all) {
            if (s.ok) {
              const st = s.status;
              io.out(`${s.endpoint}  node ${st.nodeId}  ${st.role}  term ${st.term}  leader ${st.leader ?? '(none)'}  commit ${st.commitIndex}  applied ${st.appliedIndex}`);
            } else io.out(`${s.endpoint}  unreachable: ${s.message}`);
          }
        }
        return all.some((s) => s.ok) ? EXIT.ok : EXIT.fail;
      }),
    );

  try {
    await program.parseAsync([...args], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? EXIT.ok : EXIT.usage;
    }
    throw err;
  }
  return code;
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
        io.err(`${what}: not applied, the key holds ${o.error.current === null || o.error.current === undefined ? 'nothing (absent)' : JSON.stringify(o.error.current)}`);
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

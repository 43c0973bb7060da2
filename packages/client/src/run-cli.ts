import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { KvClient } from './client.js';
import type { EndpointHealth, Outcome, StatusOutcome } from './outcome.js';
import { FRAME_BYTES_MAX_DEFAULT, type MemberInfo } from './protocol.js';
import { readValue, StdinValueError } from './stdin-value.js';

/** Exit codes: people read the message, scripts read these. */
export const EXIT = { ok: 0, fail: 1, indeterminate: 2, usage: 3 } as const;

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Where KVAPP_ENDPOINTS and KVAPP_ADMIN_TOKEN are looked up (process.env by default). */
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

/** The environment variable that stands in for --admin-token (kept out of the process list). */
export const ADMIN_TOKEN_ENV = 'KVAPP_ADMIN_TOKEN';

/**
 * The most a value of `-` may read from standard input: what one request frame carries. A value
 * that large is still refused by the node if it exceeds the node's own value limit.
 */
export const STDIN_VALUE_BYTES_MAX = FRAME_BYTES_MAX_DEFAULT;

interface GlobalOptions {
  endpoints?: string;
  deadlineMs: number;
  json: boolean;
  adminToken?: string;
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
    .option('--admin-token <token>', `sent with member, leader and snapshot commands (default: $${ADMIN_TOKEN_ENV})`)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError()
    .addHelpText(
      'after',
      `\nA value of - is read from standard input (at most ${STDIN_VALUE_BYTES_MAX} bytes, taken as they are).\nExit codes: 0 ok, 1 not applied (also: unauthorized, refused), 2 outcome unknown, 3 usage.`,
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
    const adminToken = g.adminToken ?? env[ADMIN_TOKEN_ENV];
    if (adminToken === '') {
      io.err(`kvapp: ${g.adminToken !== undefined ? '--admin-token' : ADMIN_TOKEN_ENV} is empty`);
      code = EXIT.usage;
      return;
    }
    // A person waits for this answer: when nothing listens on any endpoint, say so at once.
    const client = new KvClient({
      endpoints,
      opDeadlineMs: g.deadlineMs,
      giveUpWhenAllRefused: true,
      ...(adminToken !== undefined ? { adminToken } : {}),
    });
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

  /** A node id argument; null (one line said, exit code set) when it is not a positive integer. */
  const nodeIdOf = (text: string, what: string): number | null => {
    const id = Number(text);
    if (/^\d+$/.test(text) && Number.isSafeInteger(id) && id > 0) return id;
    io.err(`kvapp ${what}: the node id must be a positive integer, got "${text}"`);
    code = EXIT.usage;
    return null;
  };
  /** An admin command's outcome: ok printed by `ok`, the rest as report() does. */
  const admin =
    (what: string, call: (c: KvClient) => Promise<Outcome>, ok: (o: Outcome & { status: 'ok' }) => string[]) =>
    (c: KvClient, g: GlobalOptions): Promise<number> =>
      call(c).then((o) => reportAdmin(o, g, io, what, ok));

  const member = program.command('member').description('list and change the members of the cluster (admin: see --admin-token)');
  member
    .command('list')
    .description("every member's id, role, addresses and, from the leader, match index and lag")
    .option('--json', 'print the outcome as one JSON object', false)
    .action((o: { json: boolean }) =>
      withClient((c, g) =>
        admin(
          'member list',
          (c) => c.listMembers(),
          (r) => memberTable(r.members ?? []),
        )(c, { ...g, json: o.json || g.json }),
      ),
    );
  member
    .command('add <id>')
    .description('add node <id> as a learner, reached at --peer and --client (a node started with --join does this itself)')
    .option('--peer <host:port>', 'the address its peers dial')
    .option('--client <host:port>', 'the address clients are redirected to')
    .action((text: string, o: { peer?: string; client?: string }) => {
      const id = nodeIdOf(text, 'member add');
      if (id === null) return;
      for (const [flag, value] of [
        ['--peer', o.peer],
        ['--client', o.client],
      ] as const) {
        if (value === undefined || !/^[^\s:]+:\d{1,5}$/.test(value)) {
          io.err(`kvapp member add: ${flag} host:port is required${value === undefined ? '' : `, got "${value}"`}`);
          code = EXIT.usage;
          return;
        }
      }
      return withClient(
        admin(
          `member add ${id}`,
          (c) => c.addMember(id, { peer: o.peer!, client: o.client! }),
          (r) => [`ok: node ${id} added as a learner`, ...memberTable(r.members ?? [])],
        ),
      );
    });
  member
    .command('promote <id>')
    .description('make learner <id> a voter; refused while it lags the leader')
    .action((text: string) => {
      const id = nodeIdOf(text, 'member promote');
      if (id !== null)
        return withClient(
          admin(
            `member promote ${id}`,
            (c) => c.promoteMember(id),
            (r) => [`ok: node ${id} promoted to voter (log index ${r.index})`],
          ),
        );
    });
  member
    .command('remove <id>')
    .description('remove node <id> from the configuration; it then serves nothing')
    .action((text: string) => {
      const id = nodeIdOf(text, 'member remove');
      if (id !== null)
        return withClient(
          admin(
            `member remove ${id}`,
            (c) => c.removeMember(id),
            (r) => [`ok: node ${id} removed (log index ${r.index})`],
          ),
        );
    });
  member
    .command('replace <id> <by>')
    .description('replace voter <id> by learner <by> in one joint change')
    .action((text: string, byText: string) => {
      const id = nodeIdOf(text, 'member replace');
      const by = id === null ? null : nodeIdOf(byText, 'member replace');
      if (id !== null && by !== null)
        return withClient(
          admin(
            `member replace ${id} ${by}`,
            (c) => c.replaceMember(id, by),
            (r) => [`ok: node ${id} replaced by node ${by} (log index ${r.index})`],
          ),
        );
    });
  program
    .command('leader')
    .description('move the leadership (admin)')
    .command('transfer <id>')
    .description('ask the leader to hand leadership to voter <id>; kvapp endpoint status shows when it has')
    .action((text: string) => {
      const id = nodeIdOf(text, 'leader transfer');
      if (id !== null)
        return withClient(
          admin(
            `leader transfer ${id}`,
            (c) => c.transferLeader(id),
            () => [`ok: the leader is handing leadership to node ${id}`],
          ),
        );
    });
  const snapshot = program.command('snapshot').description('snapshots (admin)');
  snapshot
    .command('now')
    .description('have the leader snapshot its applied state and compact its log now')
    .action(() =>
      withClient(
        admin(
          'snapshot now',
          (c) => c.snapshotNow(),
          (r) => [`ok: snapshot taken up to log index ${r.index}`],
        ),
      ),
    );
  snapshot
    .command('save <file>')
    .description(
      'have the leader snapshot now, then copy that snapshot to <file> (checked, written atomically); kvapp-node --restore seeds a new cluster from it',
    )
    .action((file: string) =>
      withClient(async (c, g) => {
        const o = await c.saveSnapshot(file);
        if (g.json) io.out(JSON.stringify(o));
        if (o.status === 'ok') {
          const s = o.snapshot;
          if (!g.json)
            io.out(
              `ok: snapshot saved to ${file}: index ${s.index}, term ${s.term}, ${s.bytes} bytes, sha256 ${s.checksum} (from ${o.endpoint})`,
            );
          return EXIT.ok;
        }
        const hint =
          o.error.code === 'unauthorized' ? ` (give --admin-token or set ${ADMIN_TOKEN_ENV}, or use a client port on loopback)` : '';
        io.err(`snapshot save: nothing saved (${o.error.code}): ${o.error.message}${hint}`);
        return EXIT.fail;
      }),
    );

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

/** An admin command's outcome, printed; the exit code as report() gives. */
function reportAdmin(o: Outcome, g: GlobalOptions, io: CliIo, what: string, ok: (o: Outcome & { status: 'ok' }) => string[]): number {
  if (g.json) io.out(JSON.stringify(o));
  switch (o.status) {
    case 'ok':
      if (!g.json) for (const line of ok(o)) io.out(line);
      return EXIT.ok;
    case 'fail': {
      const hint =
        o.error.code === 'unauthorized' ? ` (give --admin-token or set ${ADMIN_TOKEN_ENV}, or use a client port on loopback)` : '';
      io.err(`${what}: not applied (${o.error.code}): ${o.error.message}${hint}`);
      return EXIT.fail;
    }
    case 'indeterminate':
      io.err(`${what}: outcome unknown, it may or may not have been applied: ${o.reason}`);
      return EXIT.indeterminate;
  }
}

/** `kvapp member list`: one row per member, by id, columns aligned; - where a value is unknown. */
export function memberTable(members: readonly MemberInfo[]): string[] {
  const head = ['ID', 'ROLE', 'LEADER', 'PEER', 'CLIENT', 'MATCH', 'LAG'];
  const rows = [...members]
    .sort((a, b) => a.id - b.id)
    .map((m) => [String(m.id), m.role, m.leader ? '*' : '', m.peer ?? '-', m.client ?? '-', String(m.match ?? '-'), String(m.lag ?? '-')]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
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

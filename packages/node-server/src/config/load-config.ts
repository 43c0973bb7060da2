import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from './config-error.js';
import { formatHostPort } from './host-port.js';
import { CONFIG_DEFAULTS, type NodeConfig, type NodeConfigInput } from './node-config.js';
import { resolveNodeConfig } from './resolve-config.js';

export { formatHostPort, parseHostPort } from './host-port.js';

/**
 * The options, each settable as a flag (`--data-dir`), an environment variable
 * (`KVAPP_DATA_DIR`) or a key of the JSON file given by `--config` (`"dataDir"`).
 * Precedence: flag, then environment, then file, then default.
 */
const OPTIONS = {
  config: { type: 'string' },
  id: { type: 'string' },
  'cluster-id': { type: 'string' },
  'data-dir': { type: 'string' },
  'peer-listen': { type: 'string' },
  'client-listen': { type: 'string' },
  'http-listen': { type: 'string' },
  peers: { type: 'string' },
  'client-addresses': { type: 'string' },
  'cluster-secret': { type: 'string' },
  'cluster-secret-file': { type: 'string' },
  'tick-ms': { type: 'string' },
  'election-ms': { type: 'string' },
  'heartbeat-ms': { type: 'string' },
  'snapshot-entries': { type: 'string' },
  'log-level': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'unsafe-local-reads': { type: 'boolean' },
  'unsafe-lease-reads': { type: 'boolean' },
  'unsafe-ack-before-fsync': { type: 'boolean' },
  'unsafe-skip-dir-fsync': { type: 'boolean' },
  join: { type: 'string' },
  'join-as-learner': { type: 'boolean' },
  'admin-token': { type: 'string' },
  'advertise-peer': { type: 'string' },
  'advertise-client': { type: 'string' },
  restore: { type: 'string' },
  help: { type: 'boolean' },
} as const;

type OptionName = Exclude<keyof typeof OPTIONS, 'help' | 'config'>;

const OPTION_NAMES = Object.keys(OPTIONS).filter((name) => name !== 'help' && name !== 'config') as OptionName[];

export const USAGE = `Usage: kvapp-node --id N --data-dir DIR (--cluster-secret S | --cluster-secret-file FILE)
                  [--peer-listen HOST:PORT] [--client-listen HOST:PORT]
                  [--peers ID=HOST:PORT,...] [--client-addresses ID=HOST:PORT,...] [options]

Options (each also as KVAPP_<NAME> in the environment, or a camelCase key in --config FILE):
  --id N                       this node's id, a positive integer
  --cluster-id NAME            peers with another cluster id are refused (default ${CONFIG_DEFAULTS.clusterId})
  --data-dir DIR               WAL and snapshots
  --peer-listen HOST:PORT      where peers connect (default ${formatHostPort(CONFIG_DEFAULTS.peerListen)})
  --client-listen HOST:PORT    where clients connect, WebSocket (default ${formatHostPort(CONFIG_DEFAULTS.clientListen)})
  --http-listen HOST:PORT      /metrics and /health (optional)
  --peers ID=HOST:PORT,...     the other voters of a NEW cluster (none: a one-node cluster), and the
                               address this node dials for each; once the data dir exists, the
                               voters come from its log, and these only redirect addresses
  --client-addresses ID=HOST:PORT,...  client addresses to name in not_leader redirects
  --cluster-secret S | --cluster-secret-file FILE   shared secret proving cluster membership
  --tick-ms N                  Raft tick (default ${CONFIG_DEFAULTS.tickMs})
  --election-ms N              base election timeout (default ${CONFIG_DEFAULTS.electionMs})
  --heartbeat-ms N             leader heartbeat interval (default ${CONFIG_DEFAULTS.heartbeatMs})
  --snapshot-entries N         applied entries between snapshots (default ${CONFIG_DEFAULTS.snapshotEntries})
  --log-level LEVEL            fatal|error|warn|info|debug|trace|silent (default ${CONFIG_DEFAULTS.logLevel})
  --tls-cert FILE --tls-key FILE --tls-ca FILE   TLS on both ports; peers verified against the CA
  --join HOST:PORT,...         client endpoints of a running cluster: a new data dir joins it as a
                               learner (then asks to be promoted) instead of bootstrapping a cluster
  --join-as-learner            after joining, stay a learner until \`kvapp member promote\`
  --admin-token TOKEN          admin requests (members, leader transfer, snapshot) must carry it;
                               without it and TLS, only a loopback client port serves them
  --advertise-peer HOST:PORT   the peer address other members are told (default: --peer-listen)
  --advertise-client HOST:PORT the client address redirects name (default: --client-listen)
  --restore FILE               seed a NEW data dir from a \`kvapp snapshot save\` file, as a new cluster
                               of this node and --peers (start every node of it with the same file)
  --unsafe-local-reads         TEST ONLY: reads skip ReadIndex (needs KVAPP_ALLOW_UNSAFE=1)
  --unsafe-lease-reads         TEST ONLY: the leader answers reads from its lease, trusting its clock
  --unsafe-ack-before-fsync    TEST ONLY: WAL writes are acknowledged before their fsync
  --unsafe-skip-dir-fsync      TEST ONLY: new WAL segments and snapshots skip the directory fsync
                               (each of the three needs KVAPP_ALLOW_UNSAFE=1)
  --help, --version            print this help or the version and exit
`;

const camel = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const envName = (name: string): string => `KVAPP_${name.replace(/-/g, '_').toUpperCase()}`;

export interface ConfigSources {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads a file (the --config file, the secret file); injectable for tests. */
  readonly readFile?: (path: string) => string;
}

export type LoadResult = { readonly help: true } | { readonly help: false; readonly config: NodeConfig };

/**
 * Gathers the options from flags, environment and file, then validates them with
 * resolveNodeConfig (the same rules and defaults as startNode()). Throws ConfigError listing every
 * problem.
 */
export function loadConfig(sources: ConfigSources): LoadResult {
  const readFile = sources.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  let parsed;
  try {
    parsed = parseArgs({ args: [...sources.argv], options: OPTIONS, strict: true, allowPositionals: false });
  } catch (error) {
    throw new ConfigError([(error as Error).message]);
  }
  const flags = parsed.values as Partial<Record<keyof typeof OPTIONS, string | boolean>>;
  if (flags.help === true) return { help: true };

  const problems: string[] = [];
  let file: Record<string, unknown> = {};
  const configPath = (flags.config as string | undefined) ?? sources.env['KVAPP_CONFIG'];
  if (configPath !== undefined) {
    try {
      const parsedFile: unknown = JSON.parse(readFile(configPath));
      if (typeof parsedFile !== 'object' || parsedFile === null || Array.isArray(parsedFile)) {
        problems.push(`--config ${configPath}: must hold a JSON object`);
      } else {
        file = parsedFile as Record<string, unknown>;
        for (const key of Object.keys(file)) {
          if (!OPTION_NAMES.some((name) => camel(name) === key)) problems.push(`--config ${configPath}: unknown key "${key}"`);
        }
      }
    } catch (error) {
      problems.push(`--config ${configPath}: ${(error as Error).message}`);
    }
  }

  /** Flags and environment are text; a file value keeps its JSON type (peers may be an object). */
  const raw = (name: OptionName): unknown => {
    const flag = flags[name];
    if (flag !== undefined) return String(flag);
    const env = sources.env[envName(name)];
    if (env !== undefined && env !== '') return env;
    return file[camel(name)];
  };
  const input: Record<string, unknown> = {};
  for (const name of OPTION_NAMES) {
    if (name.startsWith('tls-')) continue;
    const value = raw(name);
    if (value !== undefined) input[camel(name)] = value;
  }
  const tlsParts = { cert: raw('tls-cert'), key: raw('tls-key'), ca: raw('tls-ca') };
  if (Object.values(tlsParts).some((part) => part !== undefined)) input['tls'] = tlsParts;

  let config: NodeConfig | null = null;
  try {
    config = resolveNodeConfig(input as unknown as NodeConfigInput, { naming: 'flag', env: sources.env, readFile });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0 || config === null) throw new ConfigError(problems);
  return { help: false, config };
}

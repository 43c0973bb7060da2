import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from './config-error.js';
import { CONFIG_DEFAULTS, type HostPort, type NodeConfig } from './node-config.js';

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
  help: { type: 'boolean' },
} as const;

type OptionName = Exclude<keyof typeof OPTIONS, 'help' | 'config'>;

export const USAGE = `Usage: kvapp-node --id N --data-dir DIR --peer-listen HOST:PORT --client-listen HOST:PORT
                  --peers ID=HOST:PORT,... [--client-addresses ID=HOST:PORT,...]
                  (--cluster-secret S | --cluster-secret-file FILE) [options]

Options (each also as KVAPP_<NAME> in the environment, or a camelCase key in --config FILE):
  --id N                       this node's id, a positive integer
  --cluster-id NAME            peers with another cluster id are refused (default ${CONFIG_DEFAULTS.clusterId})
  --data-dir DIR               WAL and snapshots
  --peer-listen HOST:PORT      where peers connect
  --client-listen HOST:PORT    where clients connect (WebSocket)
  --http-listen HOST:PORT      /metrics and /health (optional)
  --peers ID=HOST:PORT,...     the address this node dials for each other voter
  --client-addresses ID=HOST:PORT,...  client addresses to name in not_leader redirects
  --cluster-secret S | --cluster-secret-file FILE   shared secret proving cluster membership
  --tick-ms N                  Raft tick (default ${CONFIG_DEFAULTS.tickMs})
  --election-ms N              base election timeout (default ${CONFIG_DEFAULTS.electionMs})
  --heartbeat-ms N             leader heartbeat interval (default ${CONFIG_DEFAULTS.heartbeatMs})
  --snapshot-entries N         applied entries between snapshots (default ${CONFIG_DEFAULTS.snapshotEntries})
  --log-level LEVEL            fatal|error|warn|info|debug|trace|silent (default ${CONFIG_DEFAULTS.logLevel})
  --tls-cert FILE --tls-key FILE --tls-ca FILE   TLS on both ports; peers verified against the CA
  --unsafe-local-reads         TEST ONLY: reads skip ReadIndex (needs KVAPP_ALLOW_UNSAFE=1)
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

/** Parses and validates; throws ConfigError listing every problem. */
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
          if (!Object.keys(OPTIONS).some((name) => camel(name) === key)) problems.push(`--config ${configPath}: unknown key "${key}"`);
        }
      }
    } catch (error) {
      problems.push(`--config ${configPath}: ${(error as Error).message}`);
    }
  }

  const raw = (name: OptionName): string | undefined => {
    const flag = flags[name];
    if (flag !== undefined) return String(flag);
    const env = sources.env[envName(name)];
    if (env !== undefined && env !== '') return env;
    const fromFile = file[camel(name)];
    return fromFile === undefined ? undefined : String(fromFile);
  };
  const v = new Validator(problems);

  const id = v.positiveInt('id', raw('id'), undefined);
  const peers = v.addressMap('peers', raw('peers'), true);
  const clientAddresses = v.addressMap('client-addresses', raw('client-addresses'), false);
  if (peers.has(id)) problems.push(`--peers: must not list this node's own id ${id}`);

  let clusterSecret = raw('cluster-secret');
  const secretFile = raw('cluster-secret-file');
  if (clusterSecret !== undefined && secretFile !== undefined) {
    problems.push('--cluster-secret and --cluster-secret-file: give one, not both');
  } else if (secretFile !== undefined) {
    try {
      clusterSecret = readFile(secretFile).trim();
    } catch (error) {
      problems.push(`--cluster-secret-file ${secretFile}: ${(error as Error).message}`);
    }
  }
  if (clusterSecret === undefined) problems.push('--cluster-secret or --cluster-secret-file: required');
  else if (clusterSecret.length < 8) problems.push('--cluster-secret: must be at least 8 characters');

  const tickMs = v.positiveInt('tick-ms', raw('tick-ms'), CONFIG_DEFAULTS.tickMs);
  const electionMs = v.positiveInt('election-ms', raw('election-ms'), CONFIG_DEFAULTS.electionMs);
  const heartbeatMs = v.positiveInt('heartbeat-ms', raw('heartbeat-ms'), CONFIG_DEFAULTS.heartbeatMs);
  if (heartbeatMs < tickMs) problems.push(`--heartbeat-ms (${heartbeatMs}) must be at least --tick-ms (${tickMs})`);
  if (electionMs < 2 * heartbeatMs) problems.push(`--election-ms (${electionMs}) must be at least twice --heartbeat-ms (${heartbeatMs})`);

  const logLevel = raw('log-level') ?? CONFIG_DEFAULTS.logLevel;
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  if (!levels.includes(logLevel)) problems.push(`--log-level: must be one of ${levels.join('|')}, got "${logLevel}"`);

  const tlsParts = [raw('tls-cert'), raw('tls-key'), raw('tls-ca')];
  const tlsGiven = tlsParts.filter((part) => part !== undefined).length;
  if (tlsGiven !== 0 && tlsGiven !== 3) problems.push('--tls-cert, --tls-key and --tls-ca: give all three or none');

  const unsafeLocalReads = raw('unsafe-local-reads') === 'true';
  if (unsafeLocalReads && sources.env['KVAPP_ALLOW_UNSAFE'] !== '1') {
    problems.push('--unsafe-local-reads: a test-only bug switch, refused unless KVAPP_ALLOW_UNSAFE=1');
  }

  const config: NodeConfig = {
    id,
    clusterId: raw('cluster-id') ?? CONFIG_DEFAULTS.clusterId,
    dataDir: v.required('data-dir', raw('data-dir')),
    peerListen: v.hostPort('peer-listen', raw('peer-listen'), true)!,
    clientListen: v.hostPort('client-listen', raw('client-listen'), true)!,
    httpListen: v.hostPort('http-listen', raw('http-listen'), false),
    peers,
    clientAddresses,
    clusterSecret: clusterSecret ?? '',
    tickMs,
    electionMs,
    heartbeatMs,
    snapshotEntries: v.positiveInt('snapshot-entries', raw('snapshot-entries'), CONFIG_DEFAULTS.snapshotEntries),
    logLevel: logLevel as NodeConfig['logLevel'],
    tls: tlsGiven === 3 ? { cert: tlsParts[0]!, key: tlsParts[1]!, ca: tlsParts[2]! } : null,
    unsafeLocalReads,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return { help: false, config };
}

class Validator {
  constructor(private readonly problems: string[]) {}

  required(name: string, value: string | undefined): string {
    if (value === undefined || value === '') {
      this.problems.push(`--${name}: required`);
      return '';
    }
    return value;
  }

  positiveInt(name: string, value: string | undefined, fallback: number | undefined): number {
    if (value === undefined) {
      if (fallback === undefined) this.problems.push(`--${name}: required`);
      return fallback ?? 0;
    }
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) {
      this.problems.push(`--${name}: must be a positive integer, got "${value}"`);
      return fallback ?? 0;
    }
    return n;
  }

  hostPort(name: string, value: string | undefined, required: boolean): HostPort | null {
    if (value === undefined) {
      if (required) this.problems.push(`--${name}: required (HOST:PORT)`);
      return null;
    }
    const parsed = parseHostPort(value);
    if (!parsed) this.problems.push(`--${name}: must be HOST:PORT with a port in 0..65535, got "${value}"`);
    return parsed;
  }

  addressMap(name: string, value: string | undefined, required: boolean): Map<number, HostPort> {
    const map = new Map<number, HostPort>();
    if (value === undefined || value.trim() === '') {
      if (required) this.problems.push(`--${name}: required (ID=HOST:PORT,...)`);
      return map;
    }
    for (const item of value.split(',')) {
      const match = /^\s*(\d+)=(.+?)\s*$/.exec(item);
      const address = match ? parseHostPort(match[2]!) : null;
      const id = match ? Number(match[1]) : 0;
      if (!match || !address || id <= 0) {
        this.problems.push(`--${name}: "${item}" is not ID=HOST:PORT with a positive id`);
      } else if (map.has(id)) {
        this.problems.push(`--${name}: id ${id} appears twice`);
      } else {
        map.set(id, address);
      }
    }
    return map;
  }
}

export function parseHostPort(value: string): HostPort | null {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value.trim());
  if (!match) return null;
  const port = Number(match[2]);
  if (port > 65535) return null;
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

export function formatHostPort(address: HostPort): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

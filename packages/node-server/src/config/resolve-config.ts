import { readFileSync } from 'node:fs';
import type { NodeId } from '@kvapp/core';
import { ConfigError } from './config-error.js';
import { parseHostPort } from './host-port.js';
import {
  CONFIG_DEFAULTS,
  LOG_LEVELS,
  type HostPort,
  type LogLevel,
  type NodeConfig,
  type NodeConfigInput,
  type TlsPaths,
} from './node-config.js';

/** The fields a configuration may have, in the order problems are reported. */
export const CONFIG_KEYS = [
  'id',
  'clusterId',
  'dataDir',
  'peerListen',
  'clientListen',
  'httpListen',
  'peers',
  'clientAddresses',
  'clusterSecret',
  'clusterSecretFile',
  'tickMs',
  'electionMs',
  'heartbeatMs',
  'snapshotEntries',
  'logLevel',
  'tls',
  'unsafeLocalReads',
  'unsafeLeaseReads',
  'unsafeAckBeforeFsync',
  'unsafeSkipDirFsync',
  'join',
  'joinAsLearner',
  'adminToken',
  'advertisePeer',
  'advertiseClient',
  'restore',
] as const satisfies readonly (keyof NodeConfigInput)[];

/** The test-only bug switches (NodeConfig's unsafe* fields). */
type UnsafeKey = 'unsafeLocalReads' | 'unsafeLeaseReads' | 'unsafeAckBeforeFsync' | 'unsafeSkipDirFsync';

export interface ResolveOptions {
  /**
   * How problems name a field: `--tick-ms` for the command line (the operator typed flags, or
   * their KVAPP_ / file equivalents), `tickMs` for startNode() (a programmer wrote an object).
   */
  readonly naming?: 'flag' | 'key';
  /** Only KVAPP_ALLOW_UNSAFE is read from it; defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Reads the secret file; injectable for tests. */
  readonly readFile?: (path: string) => string;
}

/**
 * Validates a configuration and fills in CONFIG_DEFAULTS. Values may be typed (startNode()) or
 * text (flags, environment): `"300"` and `300` are the same tick. Throws ConfigError naming every
 * bad field at once, so it is fixed in one go.
 */
export function resolveNodeConfig(input: NodeConfigInput, options: ResolveOptions = {}): NodeConfig {
  if (typeof input !== 'object' || input === null) throw new ConfigError(['the configuration must be an object']);
  const raw = input as unknown as Readonly<Record<string, unknown>>;
  const naming = options.naming ?? 'key';
  const env = options.env ?? process.env;
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const problems: string[] = [];
  const v = new Validator(problems, naming);
  const name = (key: string) => v.name(key);
  const given = (key: string): unknown => raw[key];
  const orDefault = (key: keyof typeof CONFIG_DEFAULTS): unknown => given(key) ?? CONFIG_DEFAULTS[key];

  for (const key of Object.keys(raw)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) problems.push(`unknown field "${key}"`);
  }

  const id = v.positiveInt('id', given('id'), undefined);
  const peers = v.addressMap('peers', orDefault('peers'));
  const clientAddresses = v.addressMap('clientAddresses', orDefault('clientAddresses'));
  if (id > 0 && peers.has(id)) problems.push(`${name('peers')}: must not list this node's own id ${id}`);

  const clusterSecret = v.secret(given('clusterSecret'), given('clusterSecretFile'), readFile);

  const tickMs = v.positiveInt('tickMs', orDefault('tickMs'), CONFIG_DEFAULTS.tickMs);
  const electionMs = v.positiveInt('electionMs', orDefault('electionMs'), CONFIG_DEFAULTS.electionMs);
  const heartbeatMs = v.positiveInt('heartbeatMs', orDefault('heartbeatMs'), CONFIG_DEFAULTS.heartbeatMs);
  if (heartbeatMs < tickMs) problems.push(`${name('heartbeatMs')} (${heartbeatMs}) must be at least ${name('tickMs')} (${tickMs})`);
  if (electionMs < 2 * heartbeatMs)
    problems.push(`${name('electionMs')} (${electionMs}) must be at least twice ${name('heartbeatMs')} (${heartbeatMs})`);

  const logLevel = orDefault('logLevel');
  if (!LOG_LEVELS.includes(logLevel as LogLevel))
    problems.push(`${name('logLevel')}: must be one of ${LOG_LEVELS.join('|')}, got ${show(logLevel)}`);

  // The planted bugs of the chaos suite: each is refused unless the environment says it is a test.
  const unsafe = (key: UnsafeKey): boolean => {
    const on = v.boolean(key, orDefault(key));
    if (on && env['KVAPP_ALLOW_UNSAFE'] !== '1') problems.push(`${name(key)}: a test-only bug switch, refused unless KVAPP_ALLOW_UNSAFE=1`);
    return on;
  };
  const unsafeLocalReads = unsafe('unsafeLocalReads');
  const unsafeLeaseReads = unsafe('unsafeLeaseReads');
  const unsafeAckBeforeFsync = unsafe('unsafeAckBeforeFsync');
  const unsafeSkipDirFsync = unsafe('unsafeSkipDirFsync');

  const config: NodeConfig = {
    id,
    clusterId: v.text('clusterId', orDefault('clusterId')),
    dataDir: v.text('dataDir', given('dataDir')),
    peerListen: v.address('peerListen', orDefault('peerListen')) ?? CONFIG_DEFAULTS.peerListen,
    clientListen: v.address('clientListen', orDefault('clientListen')) ?? CONFIG_DEFAULTS.clientListen,
    httpListen: given('httpListen') === null || given('httpListen') === undefined ? null : v.address('httpListen', given('httpListen')),
    peers,
    clientAddresses,
    clusterSecret,
    tickMs,
    electionMs,
    heartbeatMs,
    snapshotEntries: v.positiveInt('snapshotEntries', orDefault('snapshotEntries'), CONFIG_DEFAULTS.snapshotEntries),
    logLevel: logLevel as LogLevel,
    tls: v.tls(orDefault('tls')),
    unsafeLocalReads,
    unsafeLeaseReads,
    unsafeAckBeforeFsync,
    unsafeSkipDirFsync,
    join: v.endpoints('join', orDefault('join')),
    joinAsLearner: v.boolean('joinAsLearner', orDefault('joinAsLearner')),
    adminToken: v.token('adminToken', orDefault('adminToken')),
    advertisePeer: orDefault('advertisePeer') === null ? null : v.address('advertisePeer', given('advertisePeer')),
    advertiseClient: orDefault('advertiseClient') === null ? null : v.address('advertiseClient', given('advertiseClient')),
    restore: orDefault('restore') === null ? null : v.text('restore', given('restore')),
  };
  if (config.restore !== null && config.join.length > 0)
    problems.push(`${name('restore')} seeds a new cluster and ${name('join')} joins a running one: give one of them`);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** A value as it appears in a problem: strings quoted, objects as JSON. */
function show(value: unknown): string {
  if (value instanceof Map) return 'a Map';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' && value !== null) {
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  }
  return String(value);
}

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

class Validator {
  constructor(
    private readonly problems: string[],
    private readonly naming: 'flag' | 'key',
  ) {}

  name(key: string): string {
    return this.naming === 'flag' ? `--${kebab(key)}` : key;
  }

  private problem(key: string, text: string): void {
    this.problems.push(`${this.name(key)}: ${text}`);
  }

  text(key: string, value: unknown): string {
    if (value === undefined || value === '') {
      this.problem(key, 'required');
      return '';
    }
    if (typeof value !== 'string') {
      this.problem(key, `must be a string, got ${show(value)}`);
      return '';
    }
    return value;
  }

  positiveInt(key: string, value: unknown, fallback: number | undefined): number {
    if (value === undefined) {
      this.problem(key, 'required');
      return fallback ?? 0;
    }
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n <= 0) {
      this.problem(key, `must be a positive integer, got ${show(value)}`);
      return fallback ?? 0;
    }
    return n;
  }

  boolean(key: string, value: unknown): boolean {
    if (value === true || value === 'true' || value === '1') return true;
    if (value === false || value === 'false' || value === '0' || value === undefined) return false;
    this.problem(key, `must be true or false, got ${show(value)}`);
    return false;
  }

  address(key: string, value: unknown): HostPort | null {
    const parsed = toHostPort(value);
    if (!parsed) this.problem(key, `must be HOST:PORT with a port in 0..65535, got ${show(value)}`);
    return parsed;
  }

  addressMap(key: string, value: unknown): Map<NodeId, HostPort> {
    const map = new Map<NodeId, HostPort>();
    let entries: [unknown, unknown][];
    if (typeof value === 'string') {
      entries = [];
      for (const item of value.trim() === '' ? [] : value.split(',')) {
        const match = /^\s*(\d+)=(.+?)\s*$/.exec(item);
        // An item that is not ID=... at all keeps its place, to be reported in order below.
        entries.push(match ? [match[1], match[2]] : [null, item]);
      }
    } else if (value instanceof Map) {
      entries = [...(value as Map<unknown, unknown>)];
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      entries = Object.entries(value);
    } else {
      this.problem(key, `must be ID=HOST:PORT,... or an object of id to "host:port", got ${show(value)}`);
      return map;
    }
    for (const [rawId, rawAddress] of entries) {
      const id = typeof rawId === 'number' ? rawId : typeof rawId === 'string' && /^\d+$/.test(rawId.trim()) ? Number(rawId) : NaN;
      const address = toHostPort(rawAddress);
      if (rawId === null) {
        this.problem(key, `"${String(rawAddress)}" is not ID=HOST:PORT with a positive id`);
      } else if (!Number.isSafeInteger(id) || id <= 0 || !address) {
        const shown = typeof rawAddress === 'string' ? rawAddress : show(rawAddress);
        this.problem(key, `"${String(rawId)}=${shown}" is not ID=HOST:PORT with a positive id`);
      } else if (map.has(id)) {
        this.problem(key, `id ${id} appears twice`);
      } else {
        map.set(id, address);
      }
    }
    return map;
  }

  /** A list of 'host:port' client endpoints, as an array or comma-separated text. */
  endpoints(key: string, value: unknown): string[] {
    const items =
      typeof value === 'string'
        ? value
            .split(',')
            .map((x) => x.trim())
            .filter((x) => x !== '')
        : value;
    if (!Array.isArray(items)) {
      this.problem(key, `must be HOST:PORT,... got ${show(value)}`);
      return [];
    }
    const out: string[] = [];
    for (const item of items) {
      const parsed = toHostPort(item);
      if (parsed === null || parsed.port === 0) this.problem(key, `${show(item)} is not HOST:PORT`);
      else out.push(typeof item === 'string' ? item.trim() : String(item));
    }
    return out;
  }

  /** A shared admin token: long enough that guessing it is hopeless. */
  token(key: string, value: unknown): string | null {
    if (value === null || value === undefined) return null;
    if (typeof value !== 'string' || value.trim().length < 16) {
      this.problem(key, 'must be a string of at least 16 characters');
      return null;
    }
    return value.trim();
  }

  secret(inline: unknown, file: unknown, readFile: (path: string) => string): string {
    const both = `${this.name('clusterSecret')} or ${this.name('clusterSecretFile')}`;
    if (inline !== undefined && file !== undefined) {
      this.problems.push(`${this.name('clusterSecret')} and ${this.name('clusterSecretFile')}: give one, not both`);
      return '';
    }
    let secret: string;
    if (file !== undefined) {
      if (typeof file !== 'string' || file === '') {
        this.problem('clusterSecretFile', `must be a file path, got ${show(file)}`);
        return '';
      }
      try {
        secret = readFile(file).trim();
      } catch (error) {
        this.problems.push(`${this.name('clusterSecretFile')} ${file}: ${(error as Error).message}`);
        return '';
      }
    } else if (inline === undefined) {
      this.problems.push(`${both}: required`);
      return '';
    } else if (typeof inline !== 'string') {
      this.problem('clusterSecret', 'must be a string');
      return '';
    } else {
      secret = inline;
    }
    if (secret.length < 8) this.problem('clusterSecret', 'must be at least 8 characters');
    return secret;
  }

  tls(value: unknown): TlsPaths | null {
    if (value === null || value === undefined) return null;
    const whole = this.naming === 'flag' ? '--tls-cert, --tls-key and --tls-ca' : 'tls.cert, tls.key and tls.ca';
    const parts = typeof value === 'object' ? (value as Record<string, unknown>) : {};
    const cert = parts['cert'];
    const key = parts['key'];
    const ca = parts['ca'];
    const present = [cert, key, ca].filter((part) => part !== undefined);
    if (typeof value !== 'object' || present.length !== 3) {
      this.problems.push(`${whole}: give all three or none`);
      return null;
    }
    if (![cert, key, ca].every((part) => typeof part === 'string' && part !== '')) {
      this.problems.push(`${whole}: each must be a file path`);
      return null;
    }
    return { cert: cert as string, key: key as string, ca: ca as string };
  }
}

function toHostPort(value: unknown): HostPort | null {
  if (typeof value === 'string') return parseHostPort(value);
  if (typeof value !== 'object' || value === null) return null;
  const { host, port } = value as { host?: unknown; port?: unknown };
  if (typeof host !== 'string' || host === '' || typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
    return null;
  return { host, port };
}

import type { NodeId } from '@kvapp/core';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Paths of the PEM files; with TLS, both ports use it and peers are verified against `ca`. */
export interface TlsPaths {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** Everything a node needs to start, validated and complete. Times are milliseconds. */
export interface NodeConfig {
  readonly id: NodeId;
  readonly clusterId: string;
  readonly dataDir: string;
  readonly peerListen: HostPort;
  readonly clientListen: HostPort;
  readonly httpListen: HostPort | null;
  /**
   * Where this node dials each peer (through a proxy, in tests). The voters are these plus this
   * node; empty is a one-node cluster.
   */
  readonly peers: ReadonlyMap<NodeId, HostPort>;
  /** What a client is told to use in a redirect to each node (this node included, if known). */
  readonly clientAddresses: ReadonlyMap<NodeId, HostPort>;
  readonly clusterSecret: string;
  readonly tickMs: number;
  readonly electionMs: number;
  readonly heartbeatMs: number;
  /** Applied entries between two snapshots (and WAL trims). */
  readonly snapshotEntries: number;
  readonly logLevel: LogLevel;
  readonly tls: TlsPaths | null;
  /** Test-only: serve reads from local state without ReadIndex (a planted linearizability bug). */
  readonly unsafeLocalReads: boolean;
  /**
   * Test-only: the leader answers a linearizable read at once from its commit index, trusting that
   * CheckQuorum's election timeout on its own clock bounds its lease (a planted bug for the clock nemesis).
   */
  readonly unsafeLeaseReads: boolean;
  /** Test-only: a WAL save is acknowledged once written; its fsync follows later (a planted bug for power cuts). */
  readonly unsafeAckBeforeFsync: boolean;
  /** Test-only: a new WAL segment or snapshot file is renamed into place without a directory fsync (a planted bug for power cuts). */
  readonly unsafeSkipDirFsync: boolean;
  /**
   * Client endpoints ('host:port') of a running cluster: a node with an empty data dir asks it to
   * be added as a learner instead of bootstrapping a new cluster. Empty: bootstrap (or restart).
   */
  readonly join: readonly string[];
  /** A node that joined stays a learner until an operator promotes it (default: it asks to be promoted once caught up). */
  readonly joinAsLearner: boolean;
  /** Admin requests must carry this token (compared in constant time); null: see README "Who may change membership". */
  readonly adminToken: string | null;
  /** The addresses other members and clients are told to use for this node (default: the listen addresses). */
  readonly advertisePeer: HostPort | null;
  readonly advertiseClient: HostPort | null;
  /**
   * A file written by `kvapp snapshot save`: a new data dir starts from that snapshot, as a new
   * cluster of this node and `peers` (the snapshot's old membership is replaced). Refused for a
   * data dir that holds anything. Null: start as usual.
   */
  readonly restore: string | null;
}

/** An address as a `{ host, port }` or as the text `"host:port"` (`"[::1]:7001"` for IPv6). */
export type AddressInput = HostPort | string;

/**
 * Node id → address, in any of the forms people write it: a Map, a plain object keyed by id
 * (`{ "2": "127.0.0.1:7002" }`, as in a JSON file), or the flag's text `"2=127.0.0.1:7002,3=..."`.
 */
export type AddressMapInput = ReadonlyMap<NodeId | string, AddressInput> | Readonly<Record<string | number, AddressInput>> | string;

/**
 * What `startNode()` takes: only `id`, `dataDir` and the cluster secret (`clusterSecret` or
 * `clusterSecretFile`) are required; every other field falls back to CONFIG_DEFAULTS, the same
 * defaults the `kvapp-node` command uses. A complete NodeConfig is a valid input too.
 */
export interface NodeConfigInput {
  readonly id: NodeId;
  readonly dataDir: string;
  readonly clusterSecret?: string;
  /** A file holding the secret (trimmed); give this or `clusterSecret`, not both. */
  readonly clusterSecretFile?: string;
  readonly clusterId?: string;
  readonly peerListen?: AddressInput;
  readonly clientListen?: AddressInput;
  readonly httpListen?: AddressInput | null;
  readonly peers?: AddressMapInput;
  readonly clientAddresses?: AddressMapInput;
  readonly tickMs?: number;
  readonly electionMs?: number;
  readonly heartbeatMs?: number;
  readonly snapshotEntries?: number;
  readonly logLevel?: LogLevel;
  readonly tls?: TlsPaths | null;
  readonly unsafeLocalReads?: boolean;
  readonly unsafeLeaseReads?: boolean;
  readonly unsafeAckBeforeFsync?: boolean;
  readonly unsafeSkipDirFsync?: boolean;
  /** Client endpoints of a running cluster to join, as a list or the flag's 'h:p,h:p' text. */
  readonly join?: readonly string[] | string;
  readonly joinAsLearner?: boolean;
  readonly adminToken?: string | null;
  readonly advertisePeer?: AddressInput | null;
  readonly advertiseClient?: AddressInput | null;
  /** A `kvapp snapshot save` file to seed a new data dir (and a new cluster) from. */
  readonly restore?: string | null;
}

/**
 * The one set of defaults, used by both the `kvapp-node` command and `startNode()`. The listen
 * addresses are on loopback so that a node started without them is not reachable from other
 * machines by accident; a multi-machine cluster names its addresses. No peers: a one-node cluster.
 */
export const CONFIG_DEFAULTS = Object.freeze({
  clusterId: 'kvapp',
  peerListen: Object.freeze({ host: '127.0.0.1', port: 7001 }),
  clientListen: Object.freeze({ host: '127.0.0.1', port: 8001 }),
  httpListen: null,
  peers: Object.freeze({}),
  clientAddresses: Object.freeze({}),
  tickMs: 10,
  electionMs: 300,
  heartbeatMs: 50,
  snapshotEntries: 10_000,
  logLevel: 'info',
  tls: null,
  unsafeLocalReads: false,
  unsafeLeaseReads: false,
  unsafeAckBeforeFsync: false,
  unsafeSkipDirFsync: false,
  join: Object.freeze([]),
  joinAsLearner: false,
  adminToken: null,
  advertisePeer: null,
  advertiseClient: null,
  restore: null,
} as const) satisfies Required<Omit<NodeConfigInput, 'id' | 'dataDir' | 'clusterSecret' | 'clusterSecretFile'>>;

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

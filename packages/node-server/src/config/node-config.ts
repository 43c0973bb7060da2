import type { NodeId } from '@kvapp/core';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Everything a node needs to start, validated. Times are milliseconds. */
export interface NodeConfig {
  readonly id: NodeId;
  readonly clusterId: string;
  readonly dataDir: string;
  readonly peerListen: HostPort;
  readonly clientListen: HostPort;
  readonly httpListen: HostPort | null;
  /** Where this node dials each peer (through a proxy, in tests). The voters are these plus this node. */
  readonly peers: ReadonlyMap<NodeId, HostPort>;
  /** What a client is told to use in a redirect to each node (this node included, if known). */
  readonly clientAddresses: ReadonlyMap<NodeId, HostPort>;
  readonly clusterSecret: string;
  readonly tickMs: number;
  readonly electionMs: number;
  readonly heartbeatMs: number;
  /** Applied entries between two snapshots (and WAL trims). */
  readonly snapshotEntries: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly tls: { readonly cert: string; readonly key: string; readonly ca: string } | null;
  /** Test-only: serve reads from local state without ReadIndex (a planted linearizability bug). */
  readonly unsafeLocalReads: boolean;
}

export const CONFIG_DEFAULTS = {
  clusterId: 'kvapp',
  tickMs: 10,
  electionMs: 300,
  heartbeatMs: 50,
  snapshotEntries: 10_000,
  logLevel: 'info',
} as const;

import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { RaftNode, seededRng, type NodeId } from '@kvapp/core';
import { ClientServer } from '../client-api/index.js';
import { formatHostPort } from '../config/host-port.js';
import type { HostPort, NodeConfig, NodeConfigInput } from '../config/node-config.js';
import { resolveNodeConfig } from '../config/resolve-config.js';
import { Failpoints } from '../failpoints/failpoints.js';
import { walFailpointHooks } from '../failpoints/wal-failpoints.js';
import { startHttpServer, type HealthReport } from '../ops/http-server.js';
import { NodeMetrics } from '../ops/metrics.js';
import { PeerTransport, type TransportLimits } from '../transport/index.js';
import { createClientHandler, notLeaderAnswer } from './client-handler.js';
import type { DurableLog, PersistBatch } from './durable-log.js';
import type { WalLog } from '../wal/index.js';
import type { ConfState, MemberAddresses } from '@kvapp/core';
import { readBootstrapRecord, storeBootstrapRecord, type BootstrapRecord } from './bootstrap-record.js';
import { adminAccess } from './admin-access.js';
import { ADMIN_LIMITS_DEFAULT, createAdminHandler } from './admin-handler.js';
import { joinCluster } from './join-cluster.js';
import { MemberDirectory } from './member-directory.js';
import { MembershipWatcher } from './membership-watcher.js';
import { DataDirLock } from './data-dir-lock.js';
import { KernelHost } from './kernel-host.js';
import { StartError } from './start-error.js';
import { WalDurableLog } from './wal-log.js';
import { SnapshotReader } from '../snapshot/snapshot-reader.js';
import { restoreDataDir } from './restore-snapshot.js';
import { DiskProbe, installDiskProbe } from '../wal/disk-probe.js';

export interface StartOptions {
  readonly logger?: Logger;
  /** The failpoint spec (normally KVAPP_FAILPOINTS); unset arms nothing. */
  readonly failpoints?: string;
  /** Called when the node hits a fatal error and has shut down; the command exits non-zero. */
  readonly onFatal?: (error: unknown) => void;
  /** Peer transport bounds other than the defaults (embedding, tests); the command does not set them. */
  readonly transportLimits?: Partial<TransportLimits>;
  /**
   * The disk probe of the chaos harness (docs/disk-faults.md): a durability journal and a slow-disk
   * stall file for every sync of this process. Unset: taken from KVAPP_DISK_JOURNAL and
   * KVAPP_DISK_STALL_FILE, none when neither is set. One per process: a given one replaces the
   * one installed before (DiskProbeError for a path that is not absolute).
   */
  readonly diskProbe?: DiskProbe;
}

export interface NodeAddresses {
  readonly peer: HostPort;
  readonly client: HostPort;
  readonly http: HostPort | null;
}

export interface NodeStatusReport extends HealthReport {
  readonly id: NodeId;
  /** Why the node serves no data (removed from the configuration, not yet added), or null. */
  readonly outOfService: string | null;
  /** The configuration as applied here: voters, learners, and a joint change's outgoing voters. */
  readonly conf: ConfState;
  readonly role: string;
  readonly term: number;
  readonly leader: NodeId;
  readonly commit: number;
  readonly applied: number;
}

/** A running node. stop() is idempotent and resolves once everything is closed. */
export interface NodeHandle {
  readonly id: NodeId;
  readonly addresses: NodeAddresses;
  status(): NodeStatusReport;
  stop(): Promise<void>;
}

/** How often gauges are refreshed from the Raft status. */
const METRICS_REFRESH_MS = 250;

/** A joining node's whole add-learner request, retries included. */
const JOIN_DEADLINE_MS = 30_000;

/** How long an admin request of this node's (join, promote) may wait: past the leader's own bound on applying it. */
const ADMIN_ANSWER_MS = ADMIN_LIMITS_DEFAULT.changeWaitMs + 3000;

const NO_MEMBERS: ConfState = { voters: [], learners: [], votersOutgoing: [] };

/**
 * Starts one node. The `kvapp-node` command is a thin wrapper over this. `input` needs only `id`,
 * `dataDir` and the cluster secret; the rest comes from CONFIG_DEFAULTS. In order:
 * 1. validate the configuration (ConfigError naming every bad field);
 * 2. lock the data dir (StartError DATA_DIR_LOCKED while another live process holds it);
 * 3. read how the data dir began (bootstrap.json): the configuration the log's conf changes apply
 *    to. A new data dir bootstraps a new cluster of this node and `peers`, or, with `join`,
 *    starts with no members and asks the cluster to add it;
 * 4. recover the log;
 * 5. bind the peer, client and HTTP ports (LISTEN_FAILED) — peer messages are ignored until 6;
 * 6. only then join (JOIN_FAILED), store how a new data dir began, dial the members and start
 *    the Raft clock.
 * A failure at any step closes what the earlier steps opened before the promise rejects, so a
 * refused start leaves no port bound and no lock held.
 */
export async function startNode(input: NodeConfigInput, options: StartOptions = {}): Promise<NodeHandle> {
  const config = resolveNodeConfig(input);
  const logger = (options.logger ?? pino({ level: config.logLevel })).child({ node: config.id });
  const failpoints = new Failpoints(options.failpoints);
  const diskProbe = options.diskProbe ?? DiskProbe.fromEnv(process.env, config.dataDir);
  if (diskProbe !== null) {
    diskProbe.checkOutside(config.dataDir);
    installDiskProbe(diskProbe);
  }
  const tls = config.tls
    ? { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key), ca: readFileSync(config.tls.ca) }
    : null;
  const undo: (() => Promise<void>)[] = [];
  try {
    return await assemble(config, options, logger, failpoints, tls, undo);
  } catch (error) {
    for (const step of undo.reverse()) {
      await step().catch((closeError: unknown) => logger.warn({ err: String(closeError) }, 'closing after a failed start failed'));
    }
    throw error;
  }
}

async function assemble(
  config: NodeConfig,
  options: StartOptions,
  logger: Logger,
  failpoints: Failpoints,
  tls: { cert: Buffer; key: Buffer; ca: Buffer } | null,
  undo: (() => Promise<void>)[],
): Promise<NodeHandle> {
  const walLog: WalLog = (level, message, fields) => logger[level](fields, message);
  const lock = await DataDirLock.acquire(config.dataDir, walLog);
  undo.push(() => lock.release());

  const flagVoters = [config.id, ...config.peers.keys()].sort((a, b) => a - b);
  // The bootstrap members' addresses: only the flags know them, and only this node's view of them.
  const flagAddresses = new Map<NodeId, MemberAddresses>();
  for (const [id, peer] of config.peers) {
    const client = config.clientAddresses.get(id);
    flagAddresses.set(id, { peer: formatHostPort(peer), client: client ? formatHostPort(client) : '' });
  }
  if (config.restore !== null) {
    // A new cluster of this node and --peers, starting from the saved snapshot (README, "Backup and restore").
    const restored = await restoreDataDir({
      dataDir: config.dataDir,
      file: config.restore,
      conf: { voters: flagVoters, learners: [], votersOutgoing: [] },
      addresses: flagAddresses,
    });
    logger.info(
      { file: config.restore, ...restored, voters: flagVoters },
      'new data dir restored from a snapshot file: a new cluster of this node and --peers',
    );
  }
  const stored = await readBootstrapRecord(config.dataDir);
  const joining = stored === null && config.join.length > 0;
  const initialConf: ConfState = stored?.conf ?? (joining ? NO_MEMBERS : { voters: flagVoters, learners: [], votersOutgoing: [] });
  let bootstrapAddresses: ReadonlyMap<NodeId, MemberAddresses> = stored?.addresses ?? flagAddresses;

  if (failpoints.active) logger.warn({ failpoints: failpoints.describe() }, 'failpoints armed');
  if (config.unsafeLocalReads) logger.warn('UNSAFE: reads are served from local state without ReadIndex (test-only bug switch)');
  if (config.unsafeLeaseReads)
    logger.warn('UNSAFE: the leader answers reads from its lease, trusting its own clock, without a quorum (test-only bug switch)');
  if (config.unsafeAckBeforeFsync)
    logger.warn('UNSAFE: WAL saves are acknowledged before their fsync, which follows within 100 ms (test-only bug switch)');
  if (config.unsafeSkipDirFsync)
    logger.warn('UNSAFE: new WAL segments and snapshot files are renamed into place without a directory fsync (test-only bug switch)');
  const metrics = new NodeMetrics();
  const walFailpoints = walFailpointHooks(failpoints);
  const opened = await WalDurableLog.open(config.dataDir, initialConf, {
    ...(walFailpoints !== undefined ? { failpoints: walFailpoints } : {}),
    log: walLog,
    unsafeAckBeforeFsync: config.unsafeAckBeforeFsync,
    unsafeSkipDirFsync: config.unsafeSkipDirFsync,
  });
  undo.push(() => opened.log.close());
  const { recovered, snapshot } = opened;
  logger.info(
    {
      snapshotIndex: snapshot.meta.index,
      entries: recovered.entries.length,
      hardState: recovered.hardState,
      truncatedTail: recovered.truncatedTail,
    },
    'log recovered',
  );
  const durable = instrument(opened.log, metrics, failpoints);

  const raft = new RaftNode({
    id: config.id,
    storage: opened.log.storage,
    rng: seededRng(randomInt(2 ** 31)),
    electionTicks: Math.max(2, Math.round(config.electionMs / config.tickMs)),
    heartbeatTicks: Math.max(1, Math.round(config.heartbeatMs / config.tickMs)),
    applied: snapshot.meta.index,
    // etcd's lease-based reads: ReadIndex at once, trusting CheckQuorum's election timeout on this node's clock.
    ...(config.unsafeLeaseReads ? { unsafe: { readIndexWithoutQuorum: true } } : {}),
  });

  let transport: PeerTransport | null = null;
  let handle: NodeHandle | null = null;
  const driver: KernelHost = new KernelHost({
    raft,
    log: durable,
    snapshot,
    send: (messages) => transport?.sendAll(messages),
    nowMs: Date.now,
    tickMs: config.tickMs,
    snapshotEntries: config.snapshotEntries,
    logger,
    onStateChange: (change) => metrics.stateChanges.inc({ reason: change.reason }),
    onProposal: (outcome) => metrics.proposals.inc({ result: outcome }),
    onFatal: (error) => {
      logger.fatal(
        { err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) },
        'fatal error: the node stops',
      );
      void handle?.stop().finally(() => options.onFatal?.(error));
    },
    onCompacted: (index, bytes) => {
      metrics.snapshots.inc({ origin: 'taken' });
      logger.info({ index, bytes }, 'snapshot taken, log compacted');
    },
    onSnapshotInstalled: (index, bytes, ms) => {
      metrics.snapshots.inc({ origin: 'installed' });
      logger.info({ index, bytes, writeMs: Math.round(ms) }, 'snapshot installed from the leader');
    },
    observer: {
      ...(failpoints.active ? { beforeApply: () => failpoints.hitSync('before-apply') } : {}),
    },
  });
  undo.push(async () => {
    driver.stop();
    await driver.idle();
  });

  // Every port is bound before the node talks to the cluster: a node that cannot serve one of
  // them refuses to start instead of running half started.
  let running = false;
  const peerTransport = await bind('peer', config.peerListen, () =>
    PeerTransport.start({
      clusterId: config.clusterId,
      nodeId: config.id,
      secret: config.clusterSecret,
      listen: config.peerListen,
      peers: new Map(), // dialled once every port is bound
      onMessage: (message) => {
        if (running) driver.step(message);
      },
      onUnreachable: (peer) => driver.unreachable(peer),
      onSnapshotSent: (peer, handedOver) => driver.snapshotSent(peer, handedOver),
      logger,
      tls,
      ...(options.transportLimits ? { limits: options.transportLimits } : {}),
    }),
  );
  transport = peerTransport;
  undo.push(() => peerTransport.close());

  // What this node tells the others; a port 0 in the flags means the one actually bound.
  let clientPort = config.clientListen.port;
  const selfAddresses = (): MemberAddresses => ({
    peer: formatHostPort(config.advertisePeer ?? { host: config.peerListen.host, port: peerTransport.port }),
    client: formatHostPort(config.advertiseClient ?? { host: config.clientListen.host, port: clientPort }),
  });
  const directory = new MemberDirectory({
    self: config.id,
    selfAddresses,
    flagPeers: config.peers,
    flagClients: config.clientAddresses,
    bootstrap: () => bootstrapAddresses,
    fromLog: () => driver.memberAddresses,
  });
  const watcher = new MembershipWatcher({
    id: config.id,
    status: () => driver.status(),
    appliedIndex: () => driver.appliedIndex,
    memberAddresses: () => driver.memberAddresses,
    directory,
    setPeers: (peers) => peerTransport.setPeers(peers),
    logger,
    initialConf,
    flagVoters: stored === null || config.peers.size === 0 ? null : flagVoters,
    recoveredCommit: recovered.hardState?.commit ?? 0,
    promoter:
      config.join.length > 0 && !config.joinAsLearner
        ? { endpoints: config.join, adminToken: config.adminToken, tls, answerMs: ADMIN_ANSWER_MS }
        : null,
  });
  undo.push(async () => watcher.close());
  const clientAddressOf = (id: NodeId): string | null => directory.client(id);
  const notLeader = notLeaderAnswer(driver, clientAddressOf);
  const clients = await bind('client', config.clientListen, () =>
    ClientServer.start({
      listen: config.clientListen,
      handler: createClientHandler({
        driver,
        clientAddressOf,
        unsafeLocalReads: config.unsafeLocalReads,
        admin: createAdminHandler({
          driver,
          directory,
          access: adminAccess({ token: config.adminToken, tls: config.tls !== null, clientHost: config.clientListen.host }),
          notLeader,
          snapshots: new SnapshotReader(join(config.dataDir, 'snap')),
        }),
        outOfService: () => watcher.outOfService,
        count: (op, result) => metrics.clientRequests.inc({ op, result }),
      }),
      logger,
      tls,
    }),
  );
  clientPort = clients.port;
  undo.push(() => clients.close());

  const status = (): NodeStatusReport => {
    const s = driver.status();
    const applied = driver.appliedIndex;
    return {
      healthy: s.lead !== 0 && applied >= s.commit && watcher.outOfService === null,
      id: s.id,
      outOfService: watcher.outOfService,
      conf: s.conf,
      role: s.role,
      term: s.term,
      leader: s.lead,
      commit: s.commit,
      applied,
    };
  };
  const httpListen = config.httpListen;
  const http = httpListen
    ? await bind('http', httpListen, () => startHttpServer({ host: httpListen.host, port: httpListen.port, metrics, health: status }))
    : null;
  if (http) undo.push(() => http.close());

  if (joining) {
    const members = await joinCluster({
      endpoints: config.join,
      id: config.id,
      addresses: selfAddresses(),
      adminToken: config.adminToken,
      tls,
      deadlineMs: JOIN_DEADLINE_MS,
      attemptMs: ADMIN_ANSWER_MS,
    });
    const known = new Map<NodeId, MemberAddresses>();
    for (const m of members) if (m.peer !== null && m.id !== config.id) known.set(m.id, { peer: m.peer, client: m.client ?? '' });
    bootstrapAddresses = known;
    logger.info({ members: members.map((m) => ({ id: m.id, role: m.role })) }, 'joined the cluster as a learner');
  }
  if (stored === null) {
    const record: BootstrapRecord = { conf: initialConf, addresses: bootstrapAddresses };
    await storeBootstrapRecord(config.dataDir, record);
    const written = recovered.entries.length > 0 || recovered.hardState !== null || snapshot.meta.index > 0;
    // A data dir with a log but no bootstrap.json was written by an early version of kvapp-node.
    if (written)
      logger.warn({ conf: initialConf, dataDir: config.dataDir }, 'data dir had no bootstrap.json: took the voters of the configuration');
    else
      logger.info(
        { conf: initialConf, dataDir: config.dataDir },
        joining ? 'new data dir: joined a running cluster' : 'new data dir: bootstrapped a new cluster',
      );
  }

  running = true;
  const ticker = setInterval(() => driver.tick(), config.tickMs);

  watcher.period();
  const membershipTimer = setInterval(() => watcher.period(), config.heartbeatMs);
  membershipTimer.unref();

  const lastPeerStats = new Map<
    NodeId,
    { messagesSent: number; bytesSent: number; messagesReceived: number; bytesReceived: number; queueDrops: number }
  >();
  let lastPeerRejected = 0;
  let lastLarge = { chunked: 0, oversize: 0, unfinished: 0 };
  let lastClientRejected = 0;
  const refreshMetrics = (): void => {
    const s = driver.status();
    metrics.setRaftStatus({ term: s.term, role: s.role, commit: s.commit, applied: driver.appliedIndex });
    const stats = peerTransport.stats();
    // Garbage on the ports must be visible to operators, not only in the logs.
    const peerRejected = stats.framesRejected + stats.handshakesRejected;
    metrics.peerFramesRejected.inc(peerRejected - lastPeerRejected);
    lastPeerRejected = peerRejected;
    const large = { chunked: stats.messagesChunked, oversize: stats.messagesOversize, unfinished: stats.chunkedMessagesDiscarded };
    for (const outcome of ['chunked', 'oversize', 'unfinished'] as const)
      metrics.peerLargeMessages.inc({ outcome }, large[outcome] - lastLarge[outcome]);
    lastLarge = large;
    const clientRejected = clients.stats().badRequests;
    metrics.clientFramesRejected.inc(clientRejected - lastClientRejected);
    lastClientRejected = clientRejected;
    for (const [peer, now] of stats.peers) {
      const before = lastPeerStats.get(peer) ?? { messagesSent: 0, bytesSent: 0, messagesReceived: 0, bytesReceived: 0, queueDrops: 0 };
      const labels = { peer: String(peer) };
      metrics.peerMessages.inc({ ...labels, direction: 'sent' }, now.messagesSent - before.messagesSent);
      metrics.peerMessages.inc({ ...labels, direction: 'received' }, now.messagesReceived - before.messagesReceived);
      metrics.peerBytes.inc({ ...labels, direction: 'sent' }, now.bytesSent - before.bytesSent);
      metrics.peerBytes.inc({ ...labels, direction: 'received' }, now.bytesReceived - before.bytesReceived);
      metrics.peerQueueDrops.inc(labels, now.queueDrops - before.queueDrops);
      lastPeerStats.set(peer, { ...now });
    }
  };
  const metricsTimer = setInterval(refreshMetrics, METRICS_REFRESH_MS);
  metricsTimer.unref();

  let stopping: Promise<void> | null = null;
  handle = {
    id: config.id,
    addresses: {
      peer: { host: config.peerListen.host, port: peerTransport.port },
      client: { host: config.clientListen.host, port: clients.port },
      http: http && httpListen ? { host: httpListen.host, port: http.address.port } : null,
    },
    status,
    stop: () => {
      stopping ??= (async () => {
        logger.info('stopping');
        await clients.close();
        clearInterval(ticker);
        clearInterval(metricsTimer);
        clearInterval(membershipTimer);
        watcher.close();
        driver.stop();
        await driver.idle(); // the fsync in progress finishes; nothing acknowledged is lost
        await peerTransport.close();
        await durable.close();
        await http?.close();
        await lock.release();
        logger.info('stopped');
      })();
      return stopping;
    },
  };
  logger.info({ addresses: handle.addresses, conf: driver.status().conf }, 'node started');
  return handle;
}

/** Human words for the usual reasons a port cannot be bound. */
const LISTEN_REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this machine',
  ENOTFOUND: 'host name not found',
};

/** Runs one listener's start; a system error from it becomes LISTEN_FAILED naming the port. */
async function bind<T>(listener: 'peer' | 'client' | 'http', at: HostPort, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.syscall === undefined) throw error;
    const reason = e.code ?? e.message;
    const words = e.code !== undefined && LISTEN_REASONS[e.code] ? ` (${LISTEN_REASONS[e.code]})` : '';
    throw new StartError('LISTEN_FAILED', `cannot listen on the ${listener} port ${formatHostPort(at)}: ${reason}${words}`, {
      listener,
      host: at.host,
      port: at.port,
      reason,
    });
  }
}

/** Wraps the durable log with fsync timing and, when armed, the 'wal-after-fsync' failpoint. */
function instrument(log: WalDurableLog, metrics: NodeMetrics, failpoints: Failpoints): DurableLog {
  const afterFsync = failpoints.isArmed('wal-after-fsync');
  return {
    storage: log.storage,
    close: () => log.close(),
    compact: (index, conf, data) => log.compact(index, conf, data),
    async persist(batch: PersistBatch): Promise<void> {
      const started = process.hrtime.bigint();
      await log.persist(batch);
      if (batch.mustSync) {
        metrics.walFsyncSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
        metrics.walEntriesPerSync.observe(batch.entries.length);
      }
      if (afterFsync) await failpoints.hit('wal-after-fsync');
    },
  };
}

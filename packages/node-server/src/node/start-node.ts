import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { RaftNode, seededRng, type NodeId } from '@kvapp/core';
import { ClientServer } from '../client-api/index.js';
import { formatHostPort } from '../config/load-config.js';
import type { HostPort, NodeConfig } from '../config/node-config.js';
import { Failpoints } from '../failpoints/failpoints.js';
import { startHttpServer, type HealthReport } from '../ops/http-server.js';
import { NodeMetrics } from '../ops/metrics.js';
import { PeerTransport, type TransportLimits } from '../transport/index.js';
import { createClientHandler } from './client-handler.js';
import type { DurableLog, PersistBatch } from './durable-log.js';
import { RaftDriver } from './raft-driver.js';
import { WalDurableLog } from './wal-log.js';

export interface StartOptions {
  readonly logger?: Logger;
  /** The failpoint spec (normally KVAPP_FAILPOINTS); unset arms nothing. */
  readonly failpoints?: string;
  /** Called when the node hits a fatal error and has shut down; the command exits non-zero. */
  readonly onFatal?: (error: unknown) => void;
  /** Peer transport bounds other than the defaults (embedding, tests); the command does not set them. */
  readonly transportLimits?: Partial<TransportLimits>;
}

export interface NodeAddresses {
  readonly peer: HostPort;
  readonly client: HostPort;
  readonly http: HostPort | null;
}

export interface NodeStatusReport extends HealthReport {
  readonly id: NodeId;
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

/**
 * Starts one node: recovers the log, starts the peer transport, the Raft loop, the client port
 * and the metrics port. The `kvapp-node` command is a thin wrapper over this.
 */
export async function startNode(config: NodeConfig, options: StartOptions = {}): Promise<NodeHandle> {
  const logger = (options.logger ?? pino({ level: config.logLevel })).child({ node: config.id });
  const failpoints = new Failpoints(options.failpoints);
  if (failpoints.active) logger.warn({ failpoints: failpoints.describe() }, 'failpoints armed');
  if (config.unsafeLocalReads) logger.warn('UNSAFE: reads are served from local state without ReadIndex (test-only bug switch)');
  const metrics = new NodeMetrics();
  const tls = config.tls
    ? { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key), ca: readFileSync(config.tls.ca) }
    : null;

  const voters = [config.id, ...config.peers.keys()].sort((a, b) => a - b);
  const opened = await WalDurableLog.open(config.dataDir, { voters, learners: [], votersOutgoing: [] }, {
    failpoints: {
      'wal-before-fsync': () => failpoints.hit('wal-before-fsync'),
      'wal-mid-record': () => failpoints.hit('wal-mid-record'),
    },
    log: (level, message, fields) => logger[level](fields, message),
  });
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
  });

  let transport: PeerTransport | null = null;
  let handle: NodeHandle | null = null;
  let lastSnapshotIndex = snapshot.meta.index;
  const driver: RaftDriver = new RaftDriver({
    raft,
    log: durable,
    send: (messages) => transport?.sendAll(messages),
    nowMs: Date.now,
    logger,
    onStateChange: (change) => metrics.stateChanges.inc({ reason: change.reason }),
    onProposal: (outcome) => metrics.proposals.inc({ result: outcome }),
    onFatal: (error) => {
      logger.fatal({ err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) }, 'fatal error: the node stops');
      void handle?.stop().finally(() => options.onFatal?.(error));
    },
    ...(failpoints.active ? { beforeApply: () => failpoints.hit('before-apply') } : {}),
    afterAdvance: async () => {
      if (driver.appliedIndex - lastSnapshotIndex < config.snapshotEntries) return;
      const state = driver.snapshotState();
      await opened.log.compact(state.index, driver.status().conf, state.data);
      lastSnapshotIndex = state.index;
      logger.info({ index: state.index, bytes: state.data.length }, 'snapshot taken, log compacted');
    },
  });
  driver.restoreSnapshot(snapshot);

  transport = await PeerTransport.start({
    clusterId: config.clusterId,
    nodeId: config.id,
    secret: config.clusterSecret,
    listen: config.peerListen,
    peers: config.peers,
    onMessage: (message) => driver.step(message),
    logger,
    tls,
    ...(options.transportLimits ? { limits: options.transportLimits } : {}),
  });

  const ticker = setInterval(() => driver.tick(), config.tickMs);
  const clientAddressOf = (id: NodeId): string | null => {
    const address = config.clientAddresses.get(id);
    return address ? formatHostPort(address) : null;
  };
  const clients = await ClientServer.start({
    listen: config.clientListen,
    handler: createClientHandler({
      driver,
      clientAddressOf,
      unsafeLocalReads: config.unsafeLocalReads,
      count: (op, result) => metrics.clientRequests.inc({ op, result }),
    }),
    logger,
    tls,
  });

  const status = (): NodeStatusReport => {
    const s = driver.status();
    const applied = driver.appliedIndex;
    return { healthy: s.lead !== 0 && applied >= s.commit, id: s.id, role: s.role, term: s.term, leader: s.lead, commit: s.commit, applied };
  };
  const lastPeerStats = new Map<NodeId, { messagesSent: number; bytesSent: number; messagesReceived: number; bytesReceived: number; queueDrops: number }>();
  let lastPeerRejected = 0;
  let lastLarge = { chunked: 0, oversize: 0, unfinished: 0 };
  let lastClientRejected = 0;
  const refreshMetrics = (): void => {
    const s = driver.status();
    metrics.setRaftStatus({ term: s.term, role: s.role, commit: s.commit, applied: driver.appliedIndex });
    const stats = transport!.stats();
    // Garbage on the ports must be visible to operators, not only in the logs.
    const peerRejected = stats.framesRejected + stats.handshakesRejected;
    metrics.peerFramesRejected.inc(peerRejected - lastPeerRejected);
    lastPeerRejected = peerRejected;
    const large = { chunked: stats.messagesChunked, oversize: stats.messagesOversize, unfinished: stats.chunkedMessagesDiscarded };
    for (const outcome of ['chunked', 'oversize', 'unfinished'] as const) metrics.peerLargeMessages.inc({ outcome }, large[outcome] - lastLarge[outcome]);
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
  const http = config.httpListen
    ? await startHttpServer({ host: config.httpListen.host, port: config.httpListen.port, metrics, health: status })
    : null;

  let stopping: Promise<void> | null = null;
  handle = {
    id: config.id,
    addresses: {
      peer: { host: config.peerListen.host, port: transport.port },
      client: { host: config.clientListen.host, port: clients.port },
      http: http ? { host: config.httpListen!.host, port: http.address.port } : null,
    },
    status,
    stop: () => {
      stopping ??= (async () => {
        logger.info('stopping');
        await clients.close();
        clearInterval(ticker);
        clearInterval(metricsTimer);
        driver.stop();
        await driver.idle(); // the fsync in progress finishes; nothing acknowledged is lost
        await transport!.close();
        await durable.close();
        await http?.close();
        logger.info('stopped');
      })();
      return stopping;
    },
  };
  logger.info({ addresses: handle.addresses, voters }, 'node started');
  return handle;
}

/** Wraps the durable log with fsync timing and the 'wal-after-fsync' failpoint. */
function instrument(log: WalDurableLog, metrics: NodeMetrics, failpoints: Failpoints): DurableLog {
  return {
    storage: log.storage,
    close: () => log.close(),
    async persist(batch: PersistBatch): Promise<void> {
      const started = process.hrtime.bigint();
      await log.persist(batch);
      if (batch.mustSync) {
        metrics.walFsyncSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
        metrics.walEntriesPerSync.observe(batch.entries.length);
      }
      await failpoints.hit('wal-after-fsync');
    },
  };
}

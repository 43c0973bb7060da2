import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The node's Prometheus metrics. One registry per node (not prom-client's global one), so that
 * several nodes in one process — tests, embedding — keep separate figures. kvapp's own metrics
 * are named `kvapp_*`; the process and runtime ones keep prom-client's standard names
 * (`process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`, ...) so that stock dashboards
 * and alerts find them.
 */
export class NodeMetrics {
  readonly registry = new Registry();
  readonly term = new Gauge({ name: 'kvapp_raft_term', help: 'Current Raft term', registers: [this.registry] });
  readonly role = new Gauge({
    name: 'kvapp_raft_role',
    help: 'Raft role: 1 for the current role, 0 otherwise',
    labelNames: ['role'] as const,
    registers: [this.registry],
  });
  readonly commitIndex = new Gauge({
    name: 'kvapp_raft_commit_index',
    help: 'Commit index known to this node',
    registers: [this.registry],
  });
  readonly appliedIndex = new Gauge({
    name: 'kvapp_raft_applied_index',
    help: 'Index applied to the state machine',
    registers: [this.registry],
  });
  readonly stateChanges = new Counter({
    name: 'kvapp_raft_state_changes_total',
    help: 'Changes of Raft role, term or known leader, by cause (election-timeout, higher-term, check-quorum-lost, ...)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly proposals = new Counter({
    name: 'kvapp_raft_proposals_total',
    help: 'Client proposals by outcome: applied, or the error that answered them (not_leader, timeout, ...)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly walFsyncSeconds = new Histogram({
    name: 'kvapp_wal_fsync_seconds',
    help: 'WAL write+fsync latency per group commit',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly walEntriesPerSync = new Histogram({
    name: 'kvapp_wal_entries_per_sync',
    help: 'Entries made durable by one group commit',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });
  readonly peerMessages = new Counter({
    name: 'kvapp_peer_messages_total',
    help: 'Raft messages per peer and direction',
    labelNames: ['peer', 'direction'] as const,
    registers: [this.registry],
  });
  readonly peerBytes = new Counter({
    name: 'kvapp_peer_bytes_total',
    help: 'Raft message bytes per peer and direction',
    labelNames: ['peer', 'direction'] as const,
    registers: [this.registry],
  });
  readonly peerFramesRejected = new Counter({
    name: 'kvapp_peer_frames_rejected_total',
    help: 'Peer frames or handshakes refused (malformed, wrong secret, too large)',
    registers: [this.registry],
  });
  readonly peerLargeMessages = new Counter({
    name: 'kvapp_peer_large_messages_total',
    help: 'Raft messages above one peer frame: sent in chunks, dropped above messageBytesMax, or received unfinished',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly peerQueueDrops = new Counter({
    name: 'kvapp_peer_queue_drops_total',
    help: 'Messages dropped because a peer send queue was full',
    labelNames: ['peer'] as const,
    registers: [this.registry],
  });
  readonly snapshots = new Counter({
    name: 'kvapp_snapshots_total',
    help: 'Snapshots written: taken here (compacting the log) or installed from the leader',
    labelNames: ['origin'] as const,
    registers: [this.registry],
  });
  readonly clientFramesRejected = new Counter({
    name: 'kvapp_client_frames_rejected_total',
    help: 'Client frames refused before reaching a handler (undecodable, invalid request, too large)',
    registers: [this.registry],
  });
  readonly clientRequests = new Counter({
    name: 'kvapp_client_requests_total',
    help: 'Client requests by operation and result',
    labelNames: ['op', 'result'] as const,
    registers: [this.registry],
  });

  constructor(options: { readonly processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  setRaftStatus(status: { term: number; role: string; commit: number; applied: number }): void {
    this.term.set(status.term);
    for (const role of ['follower', 'pre-candidate', 'candidate', 'leader']) this.role.set({ role }, role === status.role ? 1 : 0);
    this.commitIndex.set(status.commit);
    this.appliedIndex.set(status.applied);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

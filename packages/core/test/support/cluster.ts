import {
  MemoryStorage,
  RaftNode,
  seededRng,
  type Entry,
  type Message,
  type NodeId,
  type PersistToken,
  type RaftConfig,
  type Ready,
  type Snapshot,
  type StateChange,
} from '../../src/index.js';

export interface ClusterOptions {
  readonly size: number;
  readonly seed: number;
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  readonly config?: Partial<Omit<RaftConfig, 'id' | 'storage' | 'rng'>>;
  /**
   * Asynchronous writes: each Ready is accepted at once (messages sent, committed entries
   * applied) and its writes wait in `pendingWrites` until the test completes them
   * (completeWrites); only then do its messagesAfterPersist go out and persisted() is called.
   */
  readonly asyncWrites?: boolean;
}

/** A Ready accepted and not yet written (asyncWrites). */
interface PendingWrite {
  readonly rd: Ready;
  readonly token: PersistToken;
}

/** What happened to a message, for tests that print or check the traffic. */
export type MessageFate = 'deliver' | 'drop';

/** Hooks for tests that print what the cluster does (interaction tests) or check it (properties). */
export interface ClusterObserver {
  /** A message left the network: delivered to its node, or dropped (partition, crash, test). */
  message?(m: Message, fate: MessageFate): void;
  /** A node's role or leader changed (from a Ready's softState). */
  role?(id: NodeId, role: string, leader: NodeId, term: number): void;
  /** A node reported a change of role, term or leader, with its cause (a Ready's stateChanges). */
  stateChange?(id: NodeId, change: StateChange): void;
  /** A node handed a ReadIndex result to the application. */
  read?(id: NodeId, index: number, context: string): void;
}

/**
 * An in-memory cluster for tests: each node's Ready is handled synchronously (persist to its
 * MemoryStorage, queue messages, record applied entries). Messages wait in `inFlight` until a
 * test delivers, drops, duplicates or reorders them, so every schedule is the test's choice.
 */
export class TestCluster {
  readonly nodes = new Map<NodeId, RaftNode>();
  readonly storages = new Map<NodeId, MemoryStorage>();
  readonly applied = new Map<NodeId, Entry[]>();
  readonly readResults = new Map<NodeId, { index: number; context: string }[]>();
  /** Per node: contexts of forwarded reads the leader refused (Ready.readsRefused). */
  readonly readsRefused = new Map<NodeId, string[]>();
  inFlight: Message[] = [];
  /** Links that drop every message: "from->to". */
  readonly cut = new Set<string>();
  readonly down = new Set<NodeId>();
  observer: ClusterObserver = {};
  private readonly restartCounts = new Map<NodeId, number>();
  /** Snapshot messages the network lost: their senders are told (reportSnapshot), as a transport would. */
  private lostSnapshots: Message[] = [];
  /** asyncWrites: per node, accepted Readies whose writes are not done yet, oldest first. */
  private readonly pending = new Map<NodeId, PendingWrite[]>();

  constructor(readonly options: ClusterOptions) {
    const voters = Array.from({ length: options.size }, (_, i) => i + 1);
    for (const id of voters) {
      this.storages.set(id, new MemoryStorage({ voters, learners: [], votersOutgoing: [] }));
      this.applied.set(id, []);
      this.readResults.set(id, []);
      this.nodes.set(id, this.newNode(id, 0));
    }
  }

  private newNode(id: NodeId, applied: number): RaftNode {
    const restarts = this.restartCounts.get(id) ?? 0;
    return new RaftNode({
      id,
      storage: this.storages.get(id)!,
      rng: seededRng(this.options.seed * 1000 + id * 31 + restarts * 7919),
      electionTicks: this.options.electionTicks ?? 10,
      heartbeatTicks: this.options.heartbeatTicks ?? 1,
      applied,
      // Tests here deliver messages without ticking, written for etcd's eager commit updates; the
      // lazy default is covered by commit-updates.test.ts and the property schedules.
      eagerCommitUpdates: true,
      ...this.options.config,
    });
  }

  /** A new, empty node (no configuration yet): it learns the membership from the leader's log. */
  addNode(id: NodeId): void {
    this.storages.set(id, new MemoryStorage({ voters: [], learners: [], votersOutgoing: [] }));
    this.applied.set(id, []);
    this.readResults.set(id, []);
    this.nodes.set(id, this.newNode(id, 0));
  }

  node(id: NodeId): RaftNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  ids(): NodeId[] {
    return [...this.nodes.keys()];
  }

  /** Handles every pending Ready of a node; returns whether there was any. */
  processReady(id: NodeId): boolean {
    if (this.down.has(id)) return false;
    const node = this.node(id);
    let any = false;
    while (node.hasReady()) {
      any = true;
      const rd = node.ready();
      if (this.options.asyncWrites === true) {
        this.handleAccepted(id, rd);
        this.pendingOf(id).push({ rd, token: node.accept() });
      } else {
        this.handle(id, rd);
        node.advance();
      }
    }
    this.reportLostSnapshots();
    return any;
  }

  private pendingOf(id: NodeId): PendingWrite[] {
    let list = this.pending.get(id);
    if (!list) this.pending.set(id, (list = []));
    return list;
  }

  /** asyncWrites: how many accepted Readies of `id` still wait for their writes. */
  pendingWrites(id: NodeId): number {
    return this.pending.get(id)?.length ?? 0;
  }

  /**
   * asyncWrites: the oldest `count` pending writes of `id` become durable, in order: each lands
   * in storage, then its messagesAfterPersist go out and the node hears persisted(). Returns how
   * many completed.
   */
  completeWrites(id: NodeId, count = Number.POSITIVE_INFINITY): number {
    if (this.down.has(id)) return 0;
    const list = this.pendingOf(id);
    let done = 0;
    while (done < count && list.length > 0) {
      const { rd, token } = list.shift()!;
      this.write(id, rd);
      this.enqueue(rd.messagesAfterPersist);
      this.node(id).persisted(token);
      done++;
      this.processReady(id);
    }
    return done;
  }

  private completeAllWrites(): boolean {
    let any = false;
    for (const id of this.ids()) any = this.completeWrites(id) > 0 || any;
    return any;
  }

  private write(id: NodeId, rd: Ready): void {
    const storage = this.storages.get(id)!;
    if (rd.snapshot) storage.applySnapshot(rd.snapshot);
    storage.append(rd.entries);
    if (rd.hardState) storage.setHardState(rd.hardState);
  }

  /** asyncWrites: what a Ready lets the node do before its writes are durable. */
  private handleAccepted(id: NodeId, rd: Ready): void {
    this.observe(id, rd);
    this.enqueue(rd.messages);
    if (rd.snapshot) this.applied.set(id, decodeAppliedState(rd.snapshot.data));
    this.deliverToApplication(id, rd);
  }

  private observe(id: NodeId, rd: Ready): void {
    if (rd.softState) {
      const status = this.node(id).status();
      this.observer.role?.(id, rd.softState.role, rd.softState.leader, status.term);
    }
    for (const change of rd.stateChanges) this.observer.stateChange?.(id, change);
  }

  private reportLostSnapshots(): void {
    while (this.lostSnapshots.length > 0) {
      const m = this.lostSnapshots.shift()!;
      if (this.down.has(m.from)) continue;
      this.node(m.from).reportSnapshot(m.to, false);
      this.processReady(m.from);
    }
  }

  private handle(id: NodeId, rd: Ready): void {
    this.observe(id, rd);
    this.enqueue(rd.messages);
    this.write(id, rd);
    // The state machine is replaced by the snapshot's: here, the entries it had applied.
    if (rd.snapshot) this.applied.set(id, decodeAppliedState(rd.snapshot.data));
    this.enqueue(rd.messagesAfterPersist);
    this.deliverToApplication(id, rd);
  }

  private deliverToApplication(id: NodeId, rd: Ready): void {
    this.applied.get(id)!.push(...rd.committedEntries);
    for (const refused of rd.readsRefused) {
      let list = this.readsRefused.get(id);
      if (!list) this.readsRefused.set(id, (list = []));
      list.push(new TextDecoder().decode(refused));
    }
    for (const rs of rd.readStates) {
      const context = new TextDecoder().decode(rs.context);
      this.readResults.get(id)!.push({ index: rs.index, context });
      this.observer.read?.(id, rs.index, context);
    }
  }

  private enqueue(messages: readonly Message[]): void {
    for (const m of messages) {
      if (this.cut.has(`${m.from}->${m.to}`) || this.down.has(m.to)) {
        this.lose(m);
        continue;
      }
      this.inFlight.push(m);
    }
  }

  private lose(m: Message): void {
    this.observer.message?.(m, 'drop');
    if (m.type === 'snapshot') this.lostSnapshots.push(m);
  }

  processAllReady(): boolean {
    let any = false;
    for (const id of this.ids()) any = this.processReady(id) || any;
    return any;
  }

  /** Delivers one message (by position in inFlight); returns it. */
  deliverAt(position: number): Message {
    const [m] = this.inFlight.splice(position, 1);
    if (!m) throw new Error(`no message at ${position}`);
    if (!this.down.has(m.to) && !this.cut.has(`${m.from}->${m.to}`)) {
      this.observer.message?.(m, 'deliver');
      this.node(m.to).step(m);
      this.processReady(m.to);
      if (m.type === 'snapshot' && !this.down.has(m.from)) {
        // The transport finished sending it: the leader may resume appends.
        this.node(m.from).reportSnapshot(m.to, true);
        this.processReady(m.from);
      }
    } else {
      this.lose(m);
      this.reportLostSnapshots();
    }
    return m;
  }

  /** Drops one message (by position in inFlight); returns it. */
  dropAt(position: number): Message {
    const [m] = this.inFlight.splice(position, 1);
    if (!m) throw new Error(`no message at ${position}`);
    this.lose(m);
    this.reportLostSnapshots();
    return m;
  }

  /** The network delivers a message twice: a copy waits at the end of inFlight. */
  duplicateAt(position: number): Message {
    const m = this.inFlight[position];
    if (!m) throw new Error(`no message at ${position}`);
    this.inFlight.push(m);
    return m;
  }

  /** Reorders: the message at `position` now arrives after all others. */
  moveToEnd(position: number): Message {
    const [m] = this.inFlight.splice(position, 1);
    if (!m) throw new Error(`no message at ${position}`);
    this.inFlight.push(m);
    return m;
  }

  /**
   * The application snapshots its state at `index` (applied already) and compacts the log up to
   * it, as a real node does to bound its log: a follower behind it then needs InstallSnapshot.
   */
  compact(id: NodeId, index: number): Snapshot {
    const node = this.node(id);
    const status = node.status();
    if (index > status.applied) throw new Error(`node ${id} applied only ${status.applied}, cannot snapshot at ${index}`);
    // A snapshot covers only what is durable: the writes before it come first.
    if (this.pendingWrites(id) > 0) throw new Error(`node ${id} has writes in flight, complete them before compacting`);
    const state = this.applied.get(id)!.filter((e) => e.index <= index);
    const storage = this.storages.get(id)!;
    const snapshot = storage.createSnapshot(index, status.conf, encodeAppliedState(state));
    storage.compact(index);
    return snapshot;
  }

  /** Delivers messages until none are left (bounded): the network is perfect meanwhile. */
  stabilize(stepsMax = 100_000): void {
    this.processAllReady();
    for (let steps = 0; steps < stepsMax; steps++) {
      const wrote = this.completeAllWrites();
      if (this.inFlight.length === 0 && !wrote && !this.processAllReady()) return;
      if (this.inFlight.length > 0) this.deliverAt(0);
    }
    throw new Error(`cluster did not stabilize within ${stepsMax} steps`);
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) {
      if (this.down.has(id)) return;
      this.node(id).tick();
      this.processReady(id);
    }
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) for (const id of this.ids()) this.tick(id);
  }

  /** Cuts every link between the groups (both directions). */
  partition(...groups: NodeId[][]): void {
    for (const a of groups)
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.cut.add(`${x}->${y}`);
      }
  }

  heal(): void {
    this.cut.clear();
  }

  /**
   * Crash: the node loses everything but its storage (what it persisted), and its in-flight
   * messages. With asyncWrites, the oldest `writesKept` pending writes reached the disk (their
   * messages never left); the others are lost.
   */
  crash(id: NodeId, writesKept = 0): void {
    const pending = this.pendingOf(id);
    for (const { rd } of pending.slice(0, writesKept)) this.write(id, rd);
    pending.length = 0;
    this.down.add(id);
    const lost = this.inFlight.filter((m) => m.to === id || m.from === id);
    this.inFlight = this.inFlight.filter((m) => m.to !== id && m.from !== id);
    for (const m of lost) this.lose(m);
    this.lostSnapshots = this.lostSnapshots.filter((m) => m.from !== id);
    this.reportLostSnapshots();
  }

  /** Restart from storage; the state machine replays from scratch, so applied restarts at the snapshot. */
  restart(id: NodeId): void {
    this.down.delete(id);
    this.restartCounts.set(id, (this.restartCounts.get(id) ?? 0) + 1);
    // The state machine restarts from the latest snapshot and replays the log after it.
    this.applied.set(id, decodeAppliedState(this.storages.get(id)!.snapshot().data));
    this.nodes.set(id, this.newNode(id, 0));
  }

  leader(): NodeId | undefined {
    let found: NodeId | undefined;
    let bestTerm = -1;
    for (const id of this.ids()) {
      if (this.down.has(id)) continue;
      const status = this.node(id).status();
      if (status.role === 'leader' && status.term > bestTerm) {
        bestTerm = status.term;
        found = id;
      }
    }
    return found;
  }

  /** Campaign on `id` and let the network run: the usual way a test picks its leader. */
  elect(id: NodeId): void {
    this.node(id).campaign();
    this.stabilize();
  }
}

/**
 * The test state machine is the list of applied entries, so a snapshot carries that list: a node
 * that installs one (or restarts from one) still knows what was applied at every index.
 */
export function encodeAppliedState(entries: readonly Entry[]): Uint8Array {
  return bytes(JSON.stringify(entries.map((e) => [e.index, e.term, e.type, text(e.data)])));
}

export function decodeAppliedState(data: Uint8Array): Entry[] {
  if (data.length === 0) return [];
  const rows = JSON.parse(text(data)) as [number, number, Entry['type'], string][];
  return rows.map(([index, term, type, payload]) => ({ index, term, type, data: bytes(payload) }));
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}

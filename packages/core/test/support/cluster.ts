import { MemoryStorage, RaftNode, seededRng, type Entry, type Message, type NodeId, type RaftConfig, type Ready } from '../../src/index.js';

export interface ClusterOptions {
  readonly size: number;
  readonly seed: number;
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  readonly config?: Partial<Omit<RaftConfig, 'id' | 'storage' | 'rng'>>;
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
  inFlight: Message[] = [];
  /** Links that drop every message: "from->to". */
  readonly cut = new Set<string>();
  readonly down = new Set<NodeId>();
  private readonly restartCounts = new Map<NodeId, number>();

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
      this.handle(id, node.ready());
      node.advance();
    }
    return any;
  }

  private handle(id: NodeId, rd: Ready): void {
    const storage = this.storages.get(id)!;
    this.enqueue(rd.messages);
    if (rd.snapshot) {
      storage.applySnapshot(rd.snapshot);
    }
    storage.append(rd.entries);
    if (rd.hardState) storage.setHardState(rd.hardState);
    this.enqueue(rd.messagesAfterPersist);
    this.applied.get(id)!.push(...rd.committedEntries);
    for (const rs of rd.readStates) {
      this.readResults.get(id)!.push({ index: rs.index, context: new TextDecoder().decode(rs.context) });
    }
  }

  private enqueue(messages: readonly Message[]): void {
    for (const m of messages) {
      if (this.cut.has(`${m.from}->${m.to}`) || this.down.has(m.to)) continue;
      this.inFlight.push(m);
    }
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
      this.node(m.to).step(m);
      this.processReady(m.to);
    }
    return m;
  }

  /** Delivers messages until none are left (bounded): the network is perfect meanwhile. */
  stabilize(stepsMax = 100_000): void {
    this.processAllReady();
    for (let steps = 0; steps < stepsMax; steps++) {
      if (this.inFlight.length === 0 && !this.processAllReady()) return;
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
    for (const a of groups) for (const b of groups) {
      if (a === b) continue;
      for (const x of a) for (const y of b) this.cut.add(`${x}->${y}`);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  /** Crash: the node loses everything but its storage (what it persisted), and its in-flight messages. */
  crash(id: NodeId): void {
    this.down.add(id);
    this.inFlight = this.inFlight.filter((m) => m.to !== id && m.from !== id);
  }

  /** Restart from storage; the state machine replays from scratch, so applied restarts at the snapshot. */
  restart(id: NodeId): void {
    this.down.delete(id);
    this.restartCounts.set(id, (this.restartCounts.get(id) ?? 0) + 1);
    this.applied.set(id, []);
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

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}

import { KvStateMachine, MemoryStorage, RaftNode, seededRng, type Message, type NodeId } from '@kvapp/core';
import { NodeKernel, type KernelLimits, type KernelUnsafeSwitches, type WriteJob } from '../../src/index.js';

export interface KernelClusterOptions {
  readonly size: number;
  readonly seed: number;
  readonly limits?: Partial<KernelLimits>;
  readonly snapshotEntries?: number;
  readonly deferDrive?: boolean;
  /** Planted kernel bugs, for the tests that prove each switch breaks its rule. */
  readonly unsafe?: KernelUnsafeSwitches;
  /** Called with every batch a node sends, before it joins the network (e.g. to call back into the kernel). */
  readonly onSend?: (id: NodeId, messages: readonly Message[]) => void;
}

/**
 * Kernels in one process with everything by hand: messages wait in `network` and write jobs in
 * `writes` until the test delivers or completes them, so every interleaving is the test's choice.
 * A completed persist job lands in the node's MemoryStorage, as the WAL's mirror does.
 */
export class KernelCluster {
  readonly kernels = new Map<NodeId, NodeKernel>();
  readonly storages = new Map<NodeId, MemoryStorage>();
  /** Write jobs started and not completed, per node, oldest first. */
  readonly writes = new Map<NodeId, WriteJob[]>();
  /** Every job each node started, in order. */
  readonly jobLog = new Map<NodeId, WriteJob[]>();
  network: Message[] = [];
  /** Restarts per node, so that each life draws its own election timeouts. */
  private readonly lives = new Map<NodeId, number>();

  constructor(readonly options: KernelClusterOptions) {
    const voters = Array.from({ length: options.size }, (_, i) => i + 1);
    for (const id of voters) {
      this.storages.set(id, new MemoryStorage({ voters, learners: [], votersOutgoing: [] }));
      this.writes.set(id, []);
      this.jobLog.set(id, []);
      this.boot(id, 0);
    }
  }

  /** Starts `id`'s kernel on its storage (what its completed writes left). */
  private boot(id: NodeId, life: number): void {
    const options = this.options;
    const storage = this.storages.get(id)!;
    const raft = new RaftNode({ id, storage, rng: seededRng(options.seed * 100 + id + life * 10), electionTicks: 10, heartbeatTicks: 2 });
    this.kernels.set(
      id,
      new NodeKernel({
        raft,
        stateMachine: new KvStateMachine(),
        restore: (data) => KvStateMachine.restore(data),
        snapshotEntries: options.snapshotEntries ?? 0,
        ...(options.limits ? { limits: options.limits } : {}),
        ...(options.deferDrive ? { deferDrive: true } : {}),
        ...(options.unsafe ? { unsafe: options.unsafe } : {}),
        io: {
          send: (messages) => {
            options.onSend?.(id, messages);
            this.network.push(...messages);
          },
          startWrite: (job) => {
            this.writes.get(id)!.push(job);
            this.jobLog.get(id)!.push(job);
          },
          nowMs: () => 1_000,
        },
      }),
    );
  }

  /**
   * kill -9 of `id` and a restart: the write jobs it started and did not complete are lost (acked
   * or not), and it comes back from its storage with an empty state machine (no snapshots here).
   */
  crashAndRestart(id: NodeId): void {
    this.writes.set(id, []);
    this.network = this.network.filter((m) => m.to !== id);
    this.lives.set(id, (this.lives.get(id) ?? 0) + 1);
    this.boot(id, this.lives.get(id)!);
  }

  kernel(id: NodeId): NodeKernel {
    return this.kernels.get(id)!;
  }

  /** Completes the oldest `count` write jobs of `id` (all by default). */
  completeWrites(id: NodeId, count = Number.POSITIVE_INFINITY): number {
    let done = 0;
    const queue = this.writes.get(id)!;
    while (done < count && queue.length > 0) {
      const job = queue.shift()!;
      const storage = this.storages.get(id)!;
      if (job.kind === 'persist') {
        if (job.snapshot) storage.applySnapshot(job.snapshot);
        storage.append(job.entries);
        if (job.hardState) storage.setHardState(job.hardState);
      } else {
        storage.createSnapshot(job.index, job.conf, job.data);
        storage.compact(job.index);
      }
      this.kernel(id).writeDone();
      done++;
    }
    return done;
  }

  /** Delivers every message in flight, and what they cause, completing writes as they come. */
  settle(roundsMax = 200): void {
    for (let round = 0; round < roundsMax; round++) {
      let busy = false;
      for (const id of this.kernels.keys()) if (this.completeWrites(id) > 0) busy = true;
      const batch = this.network;
      this.network = [];
      for (const m of batch) {
        busy = true;
        this.kernels.get(m.to)?.step(m);
      }
      if (!busy) return;
    }
    throw new Error(`the cluster did not settle in ${roundsMax} rounds`);
  }

  tickAll(): void {
    for (const k of this.kernels.values()) k.tick();
  }

  /** Ticks until a node leads and has committed an entry of its term; its id. */
  elect(ticksMax = 300): NodeId {
    for (let i = 0; i < ticksMax; i++) {
      this.tickAll();
      this.settle();
      for (const [id, k] of this.kernels) {
        const s = k.raft.status();
        if (s.role === 'leader' && s.commit > 0 && s.commit >= s.lastIndex) return id;
      }
    }
    throw new Error(`no leader within ${ticksMax} ticks (seed ${this.options.seed})`);
  }
}

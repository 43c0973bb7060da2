import { readRssBytes } from '../cluster/proc-rss.js';

/** One node's resident memory over a run, in MB (MiB, one decimal): results.json `rssMb[<id>]`. */
export interface NodeRss {
  readonly min: number;
  readonly max: number;
  /** The last sample: what the node held when the run ended (or when it was last seen alive). */
  readonly last: number;
  readonly samples: number;
}

/** Where the sampler finds the nodes: node id → pid of its live process (KvCluster.nodePids). */
export type NodePids = () => ReadonlyMap<string, number>;

const intervalMsDefault = 1000;
/**
 * A process younger than this (since the sampler first saw its pid) is not sampled: while Node
 * loads its code a starting node holds 4-20 MB, which would be every node's min after a restart.
 */
const warmUpMsDefault = 2000;
const bytesPerMb = 1024 * 1024;

export interface RssSamplerOptions {
  /** Resident bytes of a pid (default: VmRSS from /proc); null when it is gone. */
  readonly readRss?: (pid: number) => number | null;
  readonly intervalMs?: number;
  /** How long a process is left out after its pid is first seen. */
  readonly warmUpMs?: number;
  /** Monotonic ms (default performance.now); tests step it. */
  readonly now?: () => number;
}

/**
 * Samples every node process's resident memory about once a second while a run lasts. It keeps
 * min, max, last and a count per node id, never the samples themselves, so a run of any length
 * costs the same; a node id keeps its figures across restarts (a killed node's next process, a
 * failpoint-armed one), since what matters is what that node needed over the run. Each process's
 * first warmUpMs are left out (see warmUpMsDefault).
 */
export class RssSampler {
  private readonly byNode = new Map<string, { min: number; max: number; last: number; samples: number }>();
  /** pid → when the sampler first saw it; only the pids of the last listing are kept. */
  private firstSeen = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private pids: NodePids | null = null;
  private readonly readRss: (pid: number) => number | null;
  private readonly intervalMs: number;
  private readonly warmUpMs: number;
  private readonly now: () => number;

  constructor(options: RssSamplerOptions = {}) {
    this.readRss = options.readRss ?? readRssBytes;
    this.intervalMs = options.intervalMs ?? intervalMsDefault;
    this.warmUpMs = options.warmUpMs ?? warmUpMsDefault;
    this.now = options.now ?? (() => performance.now());
  }

  /** Samples now and then every interval until stop(). Idempotent while running. */
  start(pids: NodePids): void {
    this.pids = pids;
    if (this.timer !== null) return;
    this.sampleNow();
    this.timer = setInterval(() => this.sampleNow(), this.intervalMs);
    // Sampling never keeps the harness alive.
    this.timer.unref();
  }

  /**
   * One sample of every live node past its warm-up; a process that is gone by the time it is read
   * is skipped.
   */
  sampleNow(): void {
    if (this.pids === null) return;
    let pids: ReadonlyMap<string, number>;
    try {
      pids = this.pids();
    } catch {
      // A cluster that is closing may not answer; the next tick (or none) will.
      return;
    }
    const now = this.now();
    const seen = new Map<number, number>();
    for (const [id, pid] of pids) {
      const first = this.firstSeen.get(pid) ?? now;
      seen.set(pid, first);
      if (now - first < this.warmUpMs) continue;
      const bytes = this.readRss(pid);
      if (bytes !== null) this.add(id, bytes);
    }
    this.firstSeen = seen;
  }

  /** Records one sample of node `id`. */
  add(id: string, bytes: number): void {
    const s = this.byNode.get(id);
    if (s === undefined) this.byNode.set(id, { min: bytes, max: bytes, last: bytes, samples: 1 });
    else {
      s.min = Math.min(s.min, bytes);
      s.max = Math.max(s.max, bytes);
      s.last = bytes;
      s.samples += 1;
    }
  }

  /** Takes a last sample and stops. Idempotent. */
  stop(): void {
    if (this.timer === null) return;
    this.sampleNow();
    clearInterval(this.timer);
    this.timer = null;
  }

  /** The figures per node id, in MB, ids in numeric order; empty when nothing was sampled. */
  figures(): Record<string, NodeRss> {
    const out: Record<string, NodeRss> = {};
    const ids = [...this.byNode.keys()].sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
    for (const id of ids) {
      const s = this.byNode.get(id)!;
      out[id] = { min: toMb(s.min), max: toMb(s.max), last: toMb(s.last), samples: s.samples };
    }
    return out;
  }
}

function toMb(bytes: number): number {
  return Math.round((bytes / bytesPerMb) * 10) / 10;
}

import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HistoryRecorder } from '../history/recorder.js';
import { NemesisLog } from '../history/nemesis-log.js';
import { RunClock } from '../history/run-clock.js';
import { seededRandom } from '../nemesis/partitions.js';
import type { Random } from '../nemesis/partitions.js';
import type { Workload } from '../workload/workload.js';
import type { KvCluster } from './kv-cluster.js';
import { makeRunDir } from './run-folder.js';
import { RunProgressReporter } from './run-progress.js';
import { RssSampler } from './rss-sampler.js';
import type { RunOptions, ScenarioSpec } from './types.js';

/** Thrown where a run notices its abort; the run's error is then 'aborted'. */
export class RunAborted extends Error {
  constructor() {
    super('aborted');
  }
}

/** What every phase of one run shares: its spec, folder, logs, PRNG, abort signal and progress. */
export class RunContext {
  readonly startedMs = Date.now();
  readonly dir: string;
  readonly clock = new RunClock();
  readonly historyPath: string;
  readonly nemesisPath: string;
  readonly recorder: HistoryRecorder;
  readonly nemesisLog: NemesisLog;
  /** The workload's PRNG, seeded with options.seed. */
  readonly random: Random;
  /**
   * The nemeses' PRNG, seeded from options.seed too but apart from the workload's: the workload
   * draws as its operations complete, so on one shared stream the faults a seed gives would depend
   * on timing.
   */
  readonly nemesisRandom: Random;
  /** Aborted by options.signal; phases stop at it. */
  readonly signal: AbortSignal;
  readonly progress: RunProgressReporter;
  /** Set by the faults phase; stopped again (it may already be) whatever happens later. */
  workload: Workload | null = null;
  /** Set by the set-up phase once the nodes started; closed whatever happens later. */
  cluster: KvCluster | null = null;
  /** Each node's resident memory, sampled from set-up to shut-down (results.json rssMb). */
  readonly rss = new RssSampler();
  /** History processes of the final reads, left out of availability and latency. */
  readonly finalProcesses = new Set<number | string>();
  private readonly abort = new AbortController();
  private readonly onAbort = (): void => this.abort.abort(new RunAborted());

  constructor(
    readonly spec: ScenarioSpec,
    readonly options: RunOptions,
    readonly nodes: number,
    readonly timeLimitS: number,
  ) {
    this.dir = makeRunDir(options.storeDir, spec.name);
    this.historyPath = join(this.dir, 'history.jsonl');
    this.nemesisPath = join(this.dir, 'nemesis.jsonl');
    this.recorder = new HistoryRecorder(this.historyPath, { clock: this.clock });
    this.nemesisLog = new NemesisLog(this.nemesisPath, { clock: this.clock });
    this.random = seededRandom(options.seed);
    this.nemesisRandom = seededRandom((options.seed ^ 0x9e3779b9) >>> 0);
    if (options.signal?.aborted) this.onAbort();
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.signal = this.abort.signal;
    this.progress = new RunProgressReporter(this.startedMs, options.onProgress);
  }

  throwIfAborted(): void {
    if (this.signal.aborted) throw new RunAborted();
  }

  /** Sleeps `ms`; an abort ends the sleep with a throw. */
  async sleep(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.signal });
  }

  /** The caller's signal no longer reaches this run (it is over but for its files). */
  detachSignal(): void {
    this.options.signal?.removeEventListener('abort', this.onAbort);
  }
}

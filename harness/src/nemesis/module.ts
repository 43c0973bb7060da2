import type { RunClock } from '../history/run-clock.js';
import type { KvCluster } from '../run/kv-cluster.js';
import type { Workload } from '../workload/workload.js';
import type { Random } from './partitions.js';

/** What a nemesis may touch while it starts and heals a fault. */
export interface FaultContext {
  readonly cluster: KvCluster;
  readonly workload: Workload;
  /**
   * The nemeses' seeded PRNG (the run's seed, a stream apart from the workload's): every choice a
   * nemesis makes comes from it, so a seed replays them whatever the workload's timing.
   */
  readonly random: Random;
  readonly signal: AbortSignal;
  /** The run's clock (history.jsonl's and nemesis.jsonl's times), for a nemesis that times what it saw. */
  readonly clock?: RunClock;
}

/** A node as NemesisModule.nodeEnv sees it. */
export interface NodeEnvContext {
  readonly id: string;
  readonly dataDir: string;
  /** The run folder: a nemesis keeps its per-node files under it (e.g. `<runDir>/faults/<id>.*`). */
  readonly runDir: string;
}

/** One fault in force, as its nemesis started it. */
export interface Fault {
  /** Its shape, logged as the detail of the period's start and end lines in nemesis.jsonl. */
  readonly detail: Record<string, unknown>;
  /** The kind the period is logged under when it is not the nemesis' own (`mix` draws one). */
  readonly kind?: string;
  /** Undoes the fault; what it returns (e.g. crashes meanwhile) is added to the end line's detail. */
  heal(): Promise<Record<string, unknown>>;
}

/** One fault in force, named as nemesis.jsonl names its period. */
export interface ActiveFault extends Fault {
  readonly name: string;
}

/** How the report draws a nemesis' periods (harness/src/report/timeline.ts, charts.ts). */
export interface NemesisBand {
  /** Shown on the band in the timeline. */
  readonly label: string;
  /** A translucent fill, so that operations stay visible behind it (see band-colours.ts). */
  readonly colour: string;
}

/** The suite's timing of a nemesis' scenario (ScenarioSpec's faultS, recoverS and timeLimitS). */
export interface SuiteTiming {
  readonly faultS: number;
  readonly recoverS: number;
  readonly timeLimitS: number;
}

/**
 * Everything about one nemesis, in one module; harness/src/nemesis/registry.ts lists them all. The
 * schedule starts a fault, keeps it for faultS, heals it; each fault is one start/end period in
 * nemesis.jsonl named by the nemesis' kind (its key in the registry).
 */
export interface NemesisModule {
  /** One line for `kvapp-chaos --list` and the docs. */
  readonly description: string;
  /** Starts one fault on the live cluster; null for a nemesis that never starts one (`none`). */
  readonly start: ((ctx: FaultContext) => Promise<Fault>) | null;
  /** May `mix` draw it? */
  readonly inMix: boolean;
  /** The smallest cluster it can take its shape on; runScenario and the suite refuse fewer nodes. */
  readonly nodesMin: number;
  /**
   * Cluster sizes the chaos suite runs it on: the short CI run, and the long nightly run (5 where
   * the fault needs room to take a shape: bridges, rings, minorities of two). null: the suite has
   * no scenario of it.
   */
  readonly suiteNodes: { readonly ci: number; readonly nightly: number } | null;
  /**
   * The suite's timing where the default (CI: 4 s faults, 2 s recovery, 20 s; nightly: 8 s, 4 s,
   * 240 s) does not fit the fault, e.g. one that writes a lot before it can be healed.
   */
  readonly suiteTiming?: { readonly ci: SuiteTiming; readonly nightly: SuiteTiming };
  /**
   * Node flags the fault needs to take its shape (e.g. a low --snapshot-entries); every node of a
   * run of this nemesis starts with them, before the scenario's own nodeArgs.
   */
  readonly nodeArgs?: readonly string[];
  /**
   * Environment each node's process starts with, for a fault that must reach into the process
   * (libfaketime, the disk probe's files). Called for every node the run starts, added ones too.
   */
  readonly nodeEnv?: (node: NodeEnvContext) => Readonly<Record<string, string>>;
  /**
   * One line about a fault from its end line's detail, when the nemesis measured something
   * (results.json `faultNotes`, the chaos output, report.html); null: nothing to say.
   */
  readonly note?: (endDetail: Record<string, unknown>) => string | null;
  readonly band: NemesisBand;
}

/** The engine side of docs/chaos-contract.md: what a scenario asks for and what a run reports. */

import type { NemesisKind } from '../nemesis/registry.js';
import type { NodeRss } from './rss-sampler.js';

/** A key of the nemesis registry (harness/src/nemesis/registry.ts): every nemesis is one module there. */
export type { NemesisKind, NodeRss };

export interface WorkloadRates {
  readonly read: number;
  readonly write: number;
  readonly cas: number;
  /** Deletes; 0 when absent, so rates written before deletes existed keep their meaning. */
  readonly delete?: number;
}

export interface ScenarioSpec {
  /** kebab-case, unique */
  readonly name: string;
  readonly description: string;
  /** 3 or 5 (overridable by RunOptions.nodes) */
  readonly nodes: number;
  readonly nemesis: NemesisKind;
  /** each fault lasts faultS, then heal and wait recoverS */
  readonly faultS?: number;
  readonly recoverS?: number;
  readonly workload: { readonly keys: number; readonly clients: number; readonly rates?: WorkloadRates };
  /** extra node flags/env, e.g. ['--unsafe-local-reads'] with {KVAPP_ALLOW_UNSAFE: '1'} */
  readonly nodeArgs?: readonly string[];
  readonly nodeEnv?: Readonly<Record<string, string>>;
  /** 'invalid' for the runs that prove the checker bites (a planted bug must be caught) */
  readonly expect: 'valid' | 'invalid';
  /** workload duration under faults (overridable) */
  readonly timeLimitS: number;
}

export type RunPhase = 'setup' | 'faults' | 'heal' | 'final-reads' | 'check' | 'report' | 'done';

export interface RunProgress {
  readonly phase: RunPhase;
  readonly elapsedS: number;
  readonly ops: number;
  readonly ok: number;
  readonly nemesis: string | null;
}

export interface RunOptions {
  readonly seed: number;
  /** runs go to <storeDir>/<scenario>/<timestamp>/ */
  readonly storeDir: string;
  readonly timeLimitS?: number;
  readonly nodes?: number;
  readonly onProgress?: (p: RunProgress) => void;
  /** Ctrl-C: stop, clean up every process, verdict 'unknown' */
  readonly signal?: AbortSignal;
}

export interface OpCounts {
  readonly ok: number;
  readonly fail: number;
  readonly info: number;
}

export interface AvailabilityPeriod {
  readonly nemesis: string;
  readonly startS: number;
  readonly endS: number;
  readonly ops: number;
  /** Operations that completed ok. */
  readonly ok: number;
  /** Operations the store answered for certain: ok, or a fail that is not a client giving up. */
  readonly answered: number;
  /** answered / ops: a cas-mismatch counts as available, an indeterminate result or a timeout does not. */
  readonly share: number;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** Also written as results.json in the run folder. */
export interface RunResult {
  readonly scenario: string;
  readonly seed: number;
  readonly dir: string;
  readonly nodes: number;
  readonly startedAt: string;
  readonly durationMs: number;
  /** linearizability AND the acked-writes check */
  readonly verdict: 'valid' | 'invalid' | 'unknown';
  readonly expect: 'valid' | 'invalid';
  /** verdict === expect (unknown never passes) */
  readonly passed: boolean;
  readonly checker: { valid: true | false | 'unknown'; ops: number; keys: number; ms: number; failedKeys: string[] };
  readonly ackedWrites: { checked: number; lost: number; lostKeys: string[] };
  readonly ops: { total: number; ok: number; fail: number; info: number; byF: Record<string, OpCounts> };
  /** one per nemesis period, plus 'none' for quiet time */
  readonly availability: AvailabilityPeriod[];
  readonly latencyMs: LatencySummary;
  /**
   * One line per fault of a nemesis that measures something (its module's `note`), in order; e.g.
   * snapshot-catch-up's snapshot size and install time. Absent when there is none.
   */
  readonly faultNotes?: string[];
  /**
   * Each node's resident memory (VmRSS) over the run in MB, by node id, sampled about once a
   * second from set-up to shut-down; a node keeps its figures across restarts. Absent when no node
   * was sampled (set-up failed at once, or no /proc).
   */
  readonly rssMb?: Record<string, NodeRss>;
  /** harness error → verdict 'unknown' */
  readonly error?: string;
}

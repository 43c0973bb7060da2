import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { KvClient } from '@kvapp/client';
import type { Outcome } from '@kvapp/client';
import type { HistoryRecorder } from '../history/recorder.js';
import type { Random } from '../nemesis/partitions.js';

import type { WorkloadRates } from '../run/types.js';

export interface WorkloadOptions {
  readonly recorder: HistoryRecorder;
  /** The client proxies, 'host:port'. */
  readonly endpoints: readonly string[];
  readonly keys: number;
  readonly clients: number;
  readonly rates?: WorkloadRates;
  /** The run's one PRNG: every choice of op, key and value comes from it. */
  readonly random: Random;
  /** Hard per-operation deadline; bounds how long stop() waits and how many ops a run makes. */
  readonly opDeadlineMs?: number;
  /** Most operations per second per client (think time between operations). */
  readonly opsPerSecondMax?: number;
}

export interface WorkloadCounters {
  ops: number;
  ok: number;
  fail: number;
  info: number;
}

/** Reads of some clients go to one node only (e.g. an isolated old leader), while it lasts. */
export interface Pin {
  readonly endpoint: string;
  /** Share of the clients whose operations become reads through `endpoint` alone. */
  readonly share: number;
}

/** One operation of the workload as it completed, for a watcher (e.g. a membership step's availability). */
export interface OpSeen {
  readonly f: 'read' | 'write' | 'cas' | 'delete';
  /** performance.now() at the invocation and the completion. */
  readonly invokedMs: number;
  readonly completedMs: number;
  /** ok; fail (a definite answer or a client giving up); info (indeterminate). */
  readonly status: 'ok' | 'fail' | 'info';
}

const defaultRates: WorkloadRates = { read: 0.5, write: 0.25, cas: 0.2, delete: 0.05 };
/** How many recent values per key a cas may expect. */
const recentValuesMax = 4;

export function keyName(i: number): string {
  return `k${i}`;
}

/**
 * Concurrent clients doing read, write, cas and delete on keys k0..k(keys-1), recording the history.
 * Each logical process (a number in the history) has its own KvClient with sessions; when an
 * operation ends indeterminate it is recorded as `info`, the process is retired, and the client
 * goes on as a fresh process with a fresh KvClient. Written values are `<process>-<counter>`, so
 * unique per key (the acked-writes check and the checker rely on that).
 */
export class Workload {
  readonly counters: WorkloadCounters = { ops: 0, ok: 0, fail: 0, info: 0 };
  private readonly rates: WorkloadRates;
  private readonly opDeadlineMs: number;
  private readonly thinkMsMax: number;
  /** Per key: values recently written or read, newest last; null = absent. */
  private readonly recent = new Map<string, Array<string | null>>();
  private stopping = false;
  private loops: Promise<void>[] = [];
  private pin: Pin | null = null;
  private readonly openClients = new Set<KvClient>();
  private endpoints: readonly string[];
  /** Bumped by setEndpoints; each client loop takes the new list before its next operation. */
  private endpointsVersion = 0;
  private readonly watchers = new Set<(op: OpSeen) => void>();

  constructor(private readonly o: WorkloadOptions) {
    assert.ok(o.keys >= 1 && o.clients >= 1, 'a workload needs keys and clients');
    this.rates = o.rates ?? defaultRates;
    const total = this.rates.read + this.rates.write + this.rates.cas + (this.rates.delete ?? 0);
    assert.ok(total > 0, 'rates must not all be zero');
    this.opDeadlineMs = o.opDeadlineMs ?? 1500;
    this.thinkMsMax = 2000 / (o.opsPerSecondMax ?? 40);
    assert.ok(o.endpoints.length >= 1, 'a workload needs endpoints');
    this.endpoints = [...o.endpoints];
  }

  /**
   * The client proxies of the nodes now in the cluster, e.g. after a membership change added or
   * removed one. Each client takes them before its next operation (a fresh KvClient, same process:
   * its previous operation completed).
   */
  setEndpoints(endpoints: readonly string[]): void {
    assert.ok(endpoints.length >= 1, 'a workload needs endpoints');
    this.endpoints = [...endpoints];
    this.endpointsVersion += 1;
  }

  currentEndpoints(): readonly string[] {
    return this.endpoints;
  }

  /** Calls `watcher` with every operation as it completes, until the returned function is called. */
  watch(watcher: (op: OpSeen) => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  start(): void {
    assert.equal(this.loops.length, 0, 'started twice');
    for (let c = 0; c < this.o.clients; c++) this.loops.push(this.clientLoop(c));
  }

  /** Reads of the first ceil(share * clients) clients go only to `pin.endpoint`; null ends it. */
  setPin(pin: Pin | null): void {
    this.pin = pin;
  }

  /** Lets every operation in flight finish (each within its deadline), then resolves. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
    for (const c of this.openClients) c.close();
    this.openClients.clear();
  }

  private newClient(endpoints: readonly string[]): KvClient {
    const c = new KvClient({ endpoints, opDeadlineMs: this.opDeadlineMs, attemptMsMax: Math.min(500, this.opDeadlineMs), sessions: true });
    this.openClients.add(c);
    return c;
  }

  private dropClient(c: KvClient | null): void {
    if (c === null) return;
    c.close();
    this.openClients.delete(c);
  }

  private async clientLoop(index: number): Promise<void> {
    const rec = this.o.recorder;
    const rand = this.o.random;
    let proc = rec.newProcess();
    // Each client starts at a different node, so load and stale-read chances spread out.
    const rotated = (): string[] => [
      ...this.endpoints.slice(index % this.endpoints.length),
      ...this.endpoints.slice(0, index % this.endpoints.length),
    ];
    let endpoints = rotated();
    let version = this.endpointsVersion;
    let client = this.newClient(endpoints);
    // Declared with `as` so the loop below does not narrow it to null.
    let pinned = null as { endpoint: string; client: KvClient } | null;
    let counter = 0;
    while (!this.stopping) {
      if (version !== this.endpointsVersion) {
        version = this.endpointsVersion;
        endpoints = rotated();
        this.dropClient(client);
        client = this.newClient(endpoints);
      }
      const pin = this.pin;
      const usePin = pin !== null && index < Math.ceil(pin.share * this.o.clients);
      if (usePin && pinned?.endpoint !== pin.endpoint) {
        this.dropClient(pinned?.client ?? null);
        pinned = { endpoint: pin.endpoint, client: this.newClient([pin.endpoint]) };
      }
      const key = keyName(Math.floor(rand() * this.o.keys));
      const f = usePin ? 'read' : this.pickF();
      let outcome: Outcome;
      this.counters.ops += 1;
      const invokedMs = performance.now();
      if (f === 'read') {
        await rec.invoke(proc, 'read', key);
        outcome = await (usePin ? pinned!.client : client).get(key);
      } else if (f === 'write') {
        const value = `${proc}-${++counter}`;
        await rec.invoke(proc, 'write', key, value);
        outcome = await client.put(key, value);
        if (outcome.status === 'ok') this.remember(key, value);
      } else if (f === 'delete') {
        await rec.invoke(proc, 'delete', key);
        outcome = await client.delete(key);
        if (outcome.status === 'ok') this.remember(key, null);
      } else {
        const value = `${proc}-${++counter}`;
        const expected = this.pickExpected(key);
        await rec.invoke(proc, 'cas', key, [expected, value]);
        outcome = await client.cas(key, expected, value);
        if (outcome.status === 'ok') this.remember(key, value);
      }
      if (this.watchers.size > 0) {
        const seen: OpSeen = {
          f,
          invokedMs,
          completedMs: performance.now(),
          status: outcome.status === 'indeterminate' ? 'info' : outcome.status,
        };
        for (const w of this.watchers) w(seen);
      }
      if (outcome.status === 'ok') {
        this.counters.ok += 1;
        if (f === 'read') {
          const v = outcome.value ?? null;
          this.remember(key, v);
          await rec.ok(proc, v);
        } else await rec.ok(proc);
      } else if (outcome.status === 'fail') {
        this.counters.fail += 1;
        if (outcome.error.code === 'cas_mismatch') {
          if (outcome.error.current !== undefined) this.remember(key, outcome.error.current);
          await rec.fail(proc, 'cas-mismatch');
        } else await rec.fail(proc, outcome.error.code);
      } else {
        this.counters.info += 1;
        proc = await rec.info(proc, outcome.reason.slice(0, 200));
        // A new process gets a new client, hence a new session.
        this.dropClient(client);
        client = this.newClient(endpoints);
        if (pinned !== null) {
          this.dropClient(pinned.client);
          pinned = null;
        }
        counter = 0;
      }
      if (!this.stopping) await sleep(rand() * this.thinkMsMax);
    }
    this.dropClient(client);
    this.dropClient(pinned?.client ?? null);
  }

  private pickF(): 'read' | 'write' | 'cas' | 'delete' {
    const { read, write, cas } = this.rates;
    const del = this.rates.delete ?? 0;
    const r = this.o.random() * (read + write + cas + del);
    return r < read ? 'read' : r < read + write ? 'write' : r < read + write + cas ? 'cas' : 'delete';
  }

  /** A value recently seen for the key, so a fair share of cas operations can succeed. */
  private pickExpected(key: string): string | null {
    const list = this.recent.get(key);
    if (list === undefined || list.length === 0) return null;
    return list[Math.floor(this.o.random() * list.length)]!;
  }

  private remember(key: string, value: string | null): void {
    let list = this.recent.get(key);
    if (list === undefined) this.recent.set(key, (list = []));
    const at = list.indexOf(value);
    if (at >= 0) list.splice(at, 1);
    list.push(value);
    if (list.length > recentValuesMax) list.shift();
  }
}

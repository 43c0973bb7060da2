import type { Entry, NodeId } from '../../src/index.js';
import { text, type TestCluster } from '../support/cluster.js';
import { formatEntry } from '../support/format.js';
import { INVARIANTS } from '../support/safety.js';

/**
 * The properties a schedule must keep, checked at two grains:
 * - per message (and per role change): election safety, and ReadIndex linearizability;
 * - per action: everything, including log matching, leader completeness and state machine
 *   safety, which cost a scan of every log. These are support/safety.ts's SafetyChecker, with
 *   one difference: a node's log is read from where its in-memory log starts, which is past its
 *   storage's first index while the write of a received snapshot is pending (asynchronous
 *   writes); SafetyChecker reads a missing entry there and throws a TypeError.
 *
 * Election safety is fed by every role change a node reports (Ready.stateChanges) and by a scan
 * of every node's role after every delivered message, so a leader that rises and falls inside
 * one `flush` is still seen.
 */
export const PROPERTIES = {
  ...INVARIANTS,
  linearizableRead: 'a read confirmed at index i has i >= every index committed anywhere before the read was requested',
  confChangeRefusal: 'a refused membership change is a RaftError and leaves the leader as it was',
} as const;

export type PropertyName = keyof typeof PROPERTIES;

export interface PropertyViolation {
  readonly property: PropertyName;
  readonly detail: string;
}

interface ReadRequest {
  /** Who asked (the leader itself, or a follower that forwards it). */
  readonly node: NodeId;
  /** The highest index known committed anywhere when the read was asked for. */
  readonly committedBefore: number;
}

/** What the checks saw, for tests that show the schedules reach what they should. */
export interface CheckStats {
  /** Terms that had a leader. */
  leaderTerms: number;
  /** Of those, terms whose leader was gone again by the end of the action that made it: a per-action scan misses them. */
  leaderTermsSeenOnlyWithinAnAction: number;
  readsRequested: number;
  readsConfirmed: number;
  confChangesProposed: number;
  confChangesRefused: number;
  transfersRequested: number;
}

function key(e: Entry): string {
  return `${e.term}:${e.type}:${text(e.data)}`;
}

export class PropertyChecker {
  private readonly committed = new Map<number, { readonly entry: Entry; readonly term: number }>();
  private readonly appliedAt = new Map<number, { readonly key: string; readonly by: NodeId }>();
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** Terms whose leader the per-action scan saw. */
  private readonly termsSeenPerAction = new Set<number>();
  private readonly reads = new Map<string, ReadRequest>();
  private maxCommitted = 0;
  private first: PropertyViolation | undefined;
  readonly stats: CheckStats = {
    leaderTerms: 0,
    leaderTermsSeenOnlyWithinAnAction: 0,
    readsRequested: 0,
    readsConfirmed: 0,
    confChangesProposed: 0,
    confChangesRefused: 0,
    transfersRequested: 0,
  };

  /** Hooks the cluster so that every role change and every read answer is checked as it happens. */
  attach(c: TestCluster): void {
    c.observer = {
      stateChange: (id, change) => {
        if (change.role === 'leader') this.noteLeader(id, change.term, `reported by node ${id} (${change.reason})`);
      },
      read: (id, index, context) => this.readConfirmed(id, index, context),
    };
  }

  /** Records the first violation; later ones are consequences. */
  fail(property: PropertyName, detail: string): void {
    if (this.first === undefined) this.first = { property, detail };
  }

  private noteLeader(id: NodeId, term: number, how: string): void {
    const known = this.leaderOfTerm.get(term);
    if (known === undefined) {
      this.leaderOfTerm.set(term, id);
      this.stats.leaderTerms++;
    } else if (known !== id) {
      this.fail('electionSafety', `nodes ${known} and ${id} were both leader in term ${term} (${how})`);
    }
  }

  /** Cheap checks, after every delivered message: who leads, and what is committed. */
  afterMessage(c: TestCluster): PropertyViolation | undefined {
    for (const id of c.ids()) {
      if (c.down.has(id)) continue;
      const s = c.node(id).status();
      if (s.role === 'leader') this.noteLeader(id, s.term, 'seen after a message');
      if (s.commit > this.maxCommitted) this.maxCommitted = s.commit;
    }
    return this.first;
  }

  /** Every check, after every action. */
  afterAction(c: TestCluster): PropertyViolation | undefined {
    this.afterMessage(c);
    for (const id of c.ids()) {
      if (c.down.has(id)) continue;
      const s = c.node(id).status();
      if (s.role === 'leader') this.termsSeenPerAction.add(s.term);
    }
    if (this.first === undefined) this.logMatching(c);
    if (this.first === undefined) this.leaderCompleteness(c);
    if (this.first === undefined) this.stateMachineSafety(c);
    return this.first;
  }

  /**
   * A node's log: a live node's in memory (persisted or not), a down node's in its storage.
   * `first` is where the entries start: past a snapshot, also one whose write is pending.
   */
  private logOf(c: TestCluster, id: NodeId): { first: number; entries: readonly Entry[] } {
    const storage = c.storages.get(id)!;
    if (c.down.has(id)) {
      const first = storage.firstIndex();
      return { first, entries: storage.entries(first, storage.lastIndex() + 1, Number.MAX_SAFE_INTEGER) };
    }
    const node = c.node(id);
    const last = node.status().lastIndex;
    let first = storage.firstIndex();
    let entries = node.entries(first, last + 1);
    if (entries.length !== last + 1 - first) {
      // The in-memory log starts later (a snapshot it received, not yet written): read from there.
      for (first = first + 1; first <= last + 1; first++) {
        entries = node.entries(first, last + 1);
        if (entries.length === last + 1 - first) break;
      }
    }
    return { first, entries };
  }

  private logMatching(c: TestCluster): void {
    const logs = c.ids().map((id) => ({ id, ...this.logOf(c, id) }));
    for (let x = 0; x < logs.length; x++) {
      for (let y = x + 1; y < logs.length; y++) {
        const a = logs[x]!;
        const b = logs[y]!;
        const lo = Math.max(a.first, b.first);
        let shared = Math.min(a.first + a.entries.length, b.first + b.entries.length) - 1;
        while (shared >= lo && a.entries[shared - a.first]!.term !== b.entries[shared - b.first]!.term) shared--;
        for (let i = lo; i <= shared; i++) {
          const ea = a.entries[i - a.first]!;
          const eb = b.entries[i - b.first]!;
          if (key(ea) !== key(eb)) {
            this.fail(
              'logMatching',
              `nodes ${a.id} and ${b.id} share ${shared}@${a.entries[shared - a.first]!.term} but differ at ${i}: ${formatEntry(ea)} vs ${formatEntry(eb)}`,
            );
            return;
          }
        }
      }
    }
  }

  private leaderCompleteness(c: TestCluster): void {
    // Learn what is committed now (each live node's commit index covers its log up to it).
    for (const id of c.ids()) {
      if (c.down.has(id)) continue;
      const s = c.node(id).status();
      const { first, entries } = this.logOf(c, id);
      for (let i = first; i <= s.commit; i++) {
        const entry = entries[i - first]!;
        const known = this.committed.get(i);
        if (known === undefined) this.committed.set(i, { entry, term: s.term });
        else if (key(known.entry) !== key(entry)) {
          this.fail(
            'leaderCompleteness',
            `index ${i} was committed as ${formatEntry(known.entry)} but node ${id} (term ${s.term}) committed ${formatEntry(entry)}`,
          );
          return;
        }
      }
    }
    for (const id of c.ids()) {
      if (c.down.has(id)) continue;
      const s = c.node(id).status();
      if (s.role !== 'leader') continue;
      const { first, entries } = this.logOf(c, id);
      for (const [index, { entry, term }] of this.committed) {
        if (term >= s.term || index < first) continue;
        const mine = entries[index - first];
        if (mine === undefined || key(mine) !== key(entry)) {
          this.fail(
            'leaderCompleteness',
            `leader ${id} of term ${s.term} lacks ${formatEntry(entry)}, committed by term ${term} (it has ${mine ? formatEntry(mine) : 'nothing'} there)`,
          );
          return;
        }
      }
    }
  }

  private stateMachineSafety(c: TestCluster): void {
    for (const id of c.ids()) {
      for (const entry of c.applied.get(id)!) {
        const seen = this.appliedAt.get(entry.index);
        if (seen === undefined) this.appliedAt.set(entry.index, { key: key(entry), by: id });
        else if (seen.key !== key(entry)) {
          this.fail(
            'stateMachineSafety',
            `node ${id} applied ${formatEntry(entry)} at ${entry.index}, node ${seen.by} applied term:type:data ${seen.key} there`,
          );
          return;
        }
      }
    }
  }

  /** Call right before node `id` is asked for a read with `context`. */
  readRequested(c: TestCluster, id: NodeId, context: string): void {
    this.afterMessage(c); // brings maxCommitted up to now
    this.reads.set(context, { node: id, committedBefore: this.maxCommitted });
    this.stats.readsRequested++;
  }

  private readConfirmed(id: NodeId, index: number, context: string): void {
    const request = this.reads.get(context);
    if (request === undefined) {
      this.fail('linearizableRead', `node ${id} confirmed read ${context}, which nobody requested`);
      return;
    }
    if (request.node !== id) this.fail('linearizableRead', `read ${context} was asked of node ${request.node} but confirmed on node ${id}`);
    this.stats.readsConfirmed++;
    if (index < request.committedBefore) {
      this.fail(
        'linearizableRead',
        `node ${id} confirmed read ${context} at index ${index}, but ${request.committedBefore} was committed before it was requested (a stale read)`,
      );
    }
  }

  /** Fills in the stats that need the whole run. */
  finish(): CheckStats {
    let hidden = 0;
    for (const term of this.leaderOfTerm.keys()) if (!this.termsSeenPerAction.has(term)) hidden++;
    this.stats.leaderTermsSeenOnlyWithinAnAction = hidden;
    return this.stats;
  }
}

import type { NodeId } from '../../src/index.js';
import type { TestCluster } from '../support/cluster.js';
import { INVARIANTS, SafetyChecker } from '../support/safety.js';

/**
 * The properties a schedule must keep, checked at two grains:
 * - per message (and per role change): election safety, and ReadIndex linearizability;
 * - per action: everything, including log matching, leader completeness and state machine
 *   safety, which cost a scan of every log (support/safety.ts's SafetyChecker).
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

/** All counts zero. */
export function noStats(): CheckStats {
  return {
    leaderTerms: 0,
    leaderTermsSeenOnlyWithinAnAction: 0,
    readsRequested: 0,
    readsConfirmed: 0,
    confChangesProposed: 0,
    confChangesRefused: 0,
    transfersRequested: 0,
  };
}

export class PropertyChecker {
  /** Log matching, leader completeness and state machine safety, with their history. */
  private readonly logs = new SafetyChecker();
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** Terms whose leader the per-action scan saw. */
  private readonly termsSeenPerAction = new Set<number>();
  private readonly reads = new Map<string, ReadRequest>();
  private maxCommitted = 0;
  private first: PropertyViolation | undefined;
  readonly stats: CheckStats = noStats();

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
    if (this.first === undefined) {
      const violation = this.logs.checkLogs(c);
      if (violation !== undefined) this.fail(violation.invariant, violation.detail);
    }
    return this.first;
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

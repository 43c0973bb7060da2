import type { Entry, NodeId } from '../../src/index.js';
import { text, type TestCluster } from './cluster.js';
import { formatEntry } from './format.js';

/**
 * The Raft safety properties (paper, Figure 3), checked against a TestCluster after every step.
 * Each check returns a description of the first violation it sees, or undefined. The checker
 * remembers history (leaders per term, committed entries, applied commands) across steps, so
 * a violation is caught even when the evidence is later overwritten.
 */
export const INVARIANTS = {
  electionSafety: 'at most one leader per term',
  logMatching: 'logs that share an index and term are identical up to it',
  leaderCompleteness: 'an entry committed in a term is in the log of every leader of a later term',
  stateMachineSafety: 'no two nodes apply different commands at the same index',
} as const;

export type InvariantName = keyof typeof INVARIANTS;

export interface Violation {
  readonly invariant: InvariantName;
  readonly detail: string;
}

function key(e: Entry): string {
  return `${e.term}:${e.type}:${text(e.data)}`;
}

interface CommittedEntry {
  readonly entry: Entry;
  /** A term in which the entry was known committed: leaders of later terms must have it. */
  readonly term: number;
}

export class SafetyChecker {
  private readonly leaders = new Map<number, NodeId>();
  private readonly committed = new Map<number, CommittedEntry>();
  private readonly appliedAt = new Map<number, { key: string; by: NodeId }>();

  /** Runs every check; returns the first violation. */
  check(c: TestCluster): Violation | undefined {
    return this.electionSafety(c) ?? this.checkLogs(c);
  }

  /** The checks that scan every log: log matching, leader completeness, state machine safety. */
  checkLogs(c: TestCluster): Violation | undefined {
    return this.logMatching(c) ?? this.leaderCompleteness(c) ?? this.stateMachineSafety(c);
  }

  private electionSafety(c: TestCluster): Violation | undefined {
    for (const id of c.ids()) {
      if (c.down.has(id)) continue;
      const s = c.node(id).status();
      if (s.role !== 'leader') continue;
      const known = this.leaders.get(s.term);
      if (known !== undefined && known !== id) {
        return { invariant: 'electionSafety', detail: `nodes ${known} and ${id} were both leader in term ${s.term}` };
      }
      this.leaders.set(s.term, id);
    }
    return undefined;
  }

  /**
   * A node's log as [firstIndex, entries]: a live node's in memory (persisted or not), a down
   * node's in its storage. A live node's entries start past its storage's first index while the
   * write of a snapshot it received is pending (asynchronous writes): read from there.
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
    for (; entries.length !== last + 1 - first && first <= last; first++) entries = node.entries(first + 1, last + 1);
    return { first, entries };
  }

  private logMatching(c: TestCluster): Violation | undefined {
    const logs = c.ids().map((id) => ({ id, ...this.logOf(c, id) }));
    for (let x = 0; x < logs.length; x++) {
      for (let y = x + 1; y < logs.length; y++) {
        const a = logs[x]!;
        const b = logs[y]!;
        const lo = Math.max(a.first, b.first);
        const hi = Math.min(a.first + a.entries.length, b.first + b.entries.length) - 1;
        let shared = hi;
        while (shared >= lo && a.entries[shared - a.first]!.term !== b.entries[shared - b.first]!.term) shared--;
        for (let i = lo; i <= shared; i++) {
          const ea = a.entries[i - a.first]!;
          const eb = b.entries[i - b.first]!;
          if (key(ea) !== key(eb)) {
            return {
              invariant: 'logMatching',
              detail: `nodes ${a.id} and ${b.id} share ${shared}@${a.entries[shared - a.first]!.term} but differ at ${i}: ${formatEntry(ea)} vs ${formatEntry(eb)}`,
            };
          }
        }
      }
    }
    return undefined;
  }

  private leaderCompleteness(c: TestCluster): Violation | undefined {
    // Learn what is committed now (each node's commit index covers its log up to it).
    for (const id of c.ids()) {
      if (c.down.has(id)) continue;
      const s = c.node(id).status();
      const { first, entries } = this.logOf(c, id);
      for (let i = first; i <= s.commit; i++) {
        const entry = entries[i - first]!;
        const known = this.committed.get(i);
        if (known === undefined) this.committed.set(i, { entry, term: s.term });
        else if (key(known.entry) !== key(entry)) {
          return {
            invariant: 'leaderCompleteness',
            detail: `index ${i} was committed as ${formatEntry(known.entry)} but node ${id} (term ${s.term}) committed ${formatEntry(entry)}`,
          };
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
          return {
            invariant: 'leaderCompleteness',
            detail: `leader ${id} of term ${s.term} lacks ${formatEntry(entry)}, committed by term ${term} (it has ${mine ? formatEntry(mine) : 'nothing'} there)`,
          };
        }
      }
    }
    return undefined;
  }

  private stateMachineSafety(c: TestCluster): Violation | undefined {
    for (const id of c.ids()) {
      for (const entry of c.applied.get(id)!) {
        const seen = this.appliedAt.get(entry.index);
        if (seen === undefined) this.appliedAt.set(entry.index, { key: key(entry), by: id });
        else if (seen.key !== key(entry)) {
          return {
            invariant: 'stateMachineSafety',
            detail: `node ${id} applied ${formatEntry(entry)} at ${entry.index}, node ${seen.by} applied term:type:data ${seen.key} there`,
          };
        }
      }
    }
    return undefined;
  }
}

import type { Entry, NodeId } from '@kvapp/core';
import type { SimNode } from './node.js';

export type InvariantCode =
  'ELECTION_SAFETY' | 'LOG_MATCHING' | 'LEADER_COMPLETENESS' | 'STATE_MACHINE_SAFETY' | 'COMMIT_REGRESSED' | 'APPLIED_REGRESSED';

/** A Raft safety property failed: the run is a counterexample. */
export class InvariantViolation extends Error {
  constructor(
    readonly code: InvariantCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'InvariantViolation';
  }
}

interface EntryRecord {
  /** Term of the entry just before it (log matching is inductive on it). */
  readonly prevTerm: number | undefined;
  readonly digest: number;
}

interface CommittedRecord {
  readonly id: string;
  /** The term of the node that saw it committed: it was committed in this term or an earlier one. */
  readonly observedTerm: number;
}

interface NodeMarks {
  incarnation: number;
  commit: number;
  applied: number;
  /** The term in which this node's leader-completeness check last ran (0: not a leader). */
  leaderTermChecked: number;
}

/**
 * Checks Raft's safety properties (Figure 3 of the paper) as the run goes, from what the nodes
 * persist, commit and apply:
 * - election safety: at most one leader per term, over the whole run;
 * - log matching: two entries with the same index and term have the same payload and the same
 *   term just before them (by induction, identical logs up to there);
 * - leader completeness: a leader of term T holds every entry seen committed in a term below T;
 * - state machine safety: every node applies the same entry at each index, and no two entries
 *   are ever seen committed at one index;
 * - commit and applied indexes never go back, except across a crash that lost them.
 */
export class Invariants {
  private readonly leaders = new Map<number, NodeId>();
  private readonly entries = new Map<string, EntryRecord>();
  private readonly committed = new Map<number, CommittedRecord>();
  private readonly applied = new Map<number, string>();
  private readonly marks = new Map<NodeId, NodeMarks>();
  private readonly nodes = new Map<NodeId, SimNode>();
  checks = 0;

  register(node: SimNode): void {
    this.nodes.set(node.id, node);
    this.marks.set(node.id, { incarnation: node.incarnation, commit: 0, applied: 0, leaderTermChecked: 0 });
  }

  entriesPersisted(node: SimNode, written: readonly Entry[]): void {
    const storage = node.disk.live;
    for (const entry of written) {
      const key = `${entry.index}/${entry.term}`;
      let prevTerm: number | undefined;
      try {
        prevTerm = storage.term(entry.index - 1);
      } catch {
        prevTerm = undefined; // compacted: the snapshot vouches for the prefix
      }
      const record: EntryRecord = { prevTerm, digest: digest(entry) };
      const known = this.entries.get(key);
      if (known === undefined) {
        this.entries.set(key, record);
        continue;
      }
      if (known.digest !== record.digest) {
        throw new InvariantViolation('LOG_MATCHING', `node ${node.id} holds a different entry ${key} than another node`);
      }
      if (known.prevTerm !== undefined && prevTerm !== undefined && known.prevTerm !== prevTerm) {
        throw new InvariantViolation(
          'LOG_MATCHING',
          `node ${node.id} holds entry ${key} after an entry of term ${prevTerm}, another node after term ${known.prevTerm}`,
        );
      }
    }
  }

  entryApplied(node: SimNode, entry: Entry): void {
    const id = entryId(entry);
    const known = this.applied.get(entry.index);
    if (known === undefined) this.applied.set(entry.index, id);
    else if (known !== id) {
      throw new InvariantViolation(
        'STATE_MACHINE_SAFETY',
        `node ${node.id} applied ${id} at index ${entry.index}, another node applied ${known}`,
      );
    }
  }

  /** After each input a node handled: the checks that read its whole state. */
  stepped(node: SimNode): void {
    this.checks++;
    const marks = this.marks.get(node.id)!;
    const status = node.status();
    const sm = node.sm;
    if (status === null || sm === null) return;
    if (marks.incarnation !== node.incarnation) {
      // A restart may lose commit and applied progress that was never synced: new baseline.
      marks.incarnation = node.incarnation;
      marks.commit = status.commit;
      marks.applied = sm.appliedIndex;
      marks.leaderTermChecked = 0;
    }
    if (status.commit < marks.commit) {
      throw new InvariantViolation(
        'COMMIT_REGRESSED',
        `node ${node.id} commit went from ${marks.commit} to ${status.commit} without a crash`,
      );
    }
    if (sm.appliedIndex < marks.applied) {
      throw new InvariantViolation(
        'APPLIED_REGRESSED',
        `node ${node.id} applied went from ${marks.applied} to ${sm.appliedIndex} without a crash`,
      );
    }
    if (status.role === 'leader') this.checkLeader(node, status.term, marks);
    if (status.commit > marks.commit) {
      this.recordCommitted(node, marks.commit + 1, status.commit, status.term);
      this.checkCommitStable(node, status.commit);
    }
    marks.commit = status.commit;
    marks.applied = sm.appliedIndex;
  }

  private checkLeader(node: SimNode, term: number, marks: NodeMarks): void {
    const known = this.leaders.get(term);
    if (known === undefined) this.leaders.set(term, node.id);
    else if (known !== node.id) {
      throw new InvariantViolation('ELECTION_SAFETY', `nodes ${known} and ${node.id} were both leader in term ${term}`);
    }
    if (marks.leaderTermChecked === term) return;
    marks.leaderTermChecked = term;
    for (const [index, record] of this.committed) {
      if (record.observedTerm < term) this.checkHolds(node, term, index, record);
    }
  }

  private checkHolds(leader: SimNode, term: number, index: number, record: CommittedRecord): void {
    if (index < leader.disk.live.firstIndex()) return; // compacted into a snapshot of committed state
    const [entry] = leader.raft!.entries(index, index + 1);
    if (entry === undefined || entryId(entry) !== record.id) {
      throw new InvariantViolation(
        'LEADER_COMPLETENESS',
        `leader ${leader.id} of term ${term} lacks entry ${record.id} committed at index ${index} by term ${record.observedTerm}`,
      );
    }
  }

  private recordCommitted(node: SimNode, lo: number, hi: number, term: number): void {
    const from = Math.max(lo, node.disk.live.firstIndex());
    if (from > hi) return;
    for (const entry of node.raft!.entries(from, hi + 1)) {
      const id = entryId(entry);
      const known = this.committed.get(entry.index);
      if (known !== undefined) {
        if (known.id !== id) {
          throw new InvariantViolation(
            'STATE_MACHINE_SAFETY',
            `node ${node.id} committed ${id} at index ${entry.index}, earlier ${known.id} was committed there`,
          );
        }
        continue;
      }
      const record = { id, observedTerm: term };
      this.committed.set(entry.index, record);
      for (const other of this.nodes.values()) {
        const status = other.status();
        if (status !== null && status.role === 'leader' && status.term > term) this.checkHolds(other, status.term, entry.index, record);
      }
    }
  }

  /**
   * Leader completeness, looking ahead: once an entry is committed, no node that lacks it may
   * hold a log at least as up to date (§5.4.1) as the logs of a quorum — such a node could win
   * the next election without the entry. In correct Raft this cannot happen (every quorum
   * meets the replicas of the entry, and none of them would vote for it); an entry committed
   * by counting old-term replicas (Figure 8) breaks it at the moment of the commit.
   */
  private checkCommitStable(node: SimNode, commit: number): void {
    if (commit < node.disk.live.firstIndex()) return;
    const [entry] = node.raft!.entries(commit, commit + 1);
    if (entry === undefined) return;
    const logs = [...this.nodes.values()].map((n) => ({ id: n.id, storage: n.disk.live, last: lastOf(n), conf: n.status()?.conf }));
    const committingConf = node.raft!.status().conf;
    for (const candidate of logs) {
      // A candidate wins with a majority of ITS OWN configuration (both halves of a joint one).
      // The committing node's view may be stale: a node catching up learns a commit index before
      // the configuration entries below it are written and applied. A node that is down gets the
      // committing node's view.
      const conf = candidate.conf ?? committingConf;
      const groups = [conf.voters, conf.votersOutgoing].filter((g) => g.length > 0);
      if (!groups.some((g) => g.includes(candidate.id))) continue;
      if (commit < candidate.storage.firstIndex()) continue; // compacted: it has the entry
      if (commit <= candidate.last.index && termAt(candidate.storage, commit) === entry.term) continue;
      const support = new Set(logs.filter((v) => upToDate(candidate.last, v.last)).map((v) => v.id));
      const wins = groups.every((g) => g.filter((id) => support.has(id)).length >= Math.floor(g.length / 2) + 1);
      if (wins) {
        throw new InvariantViolation(
          'LEADER_COMPLETENESS',
          `node ${node.id} committed ${entryId(entry)}, but node ${candidate.id} lacks it and its log (last ${candidate.last.index}/${candidate.last.term}) is as up to date as ${support.size} of ${logs.length} logs, a majority of the voters ${groups.map((g) => g.join(',')).join(' and ')}: it can win an election without it`,
        );
      }
    }
  }

  /** For reports: how many terms had a leader, entries committed. */
  summary(): { terms: number; committed: number } {
    return { terms: this.leaders.size, committed: this.committed.size };
  }
}

interface LogEnd {
  readonly index: number;
  readonly term: number;
}

/** The end of the log a node would campaign with (or vote by): after a crash, what its disk kept. */
function lastOf(node: SimNode): LogEnd {
  const storage = node.disk.live;
  const index = storage.lastIndex();
  return { index, term: termAt(storage, index) ?? 0 };
}

function termAt(storage: SimNode['disk']['live'], index: number): number | undefined {
  try {
    return storage.term(index);
  } catch {
    return undefined;
  }
}

/** §5.4.1: would a voter with log `voter` grant a candidate with log `candidate`? */
function upToDate(candidate: LogEnd, voter: LogEnd): boolean {
  return candidate.term > voter.term || (candidate.term === voter.term && candidate.index >= voter.index);
}

function entryId(entry: Entry): string {
  return `${entry.index}/${entry.term}/${digest(entry)}`;
}

/** FNV-1a over type and payload: equal entries have equal digests (and unequal ones almost never do). */
function digest(entry: Entry): number {
  let h = entry.type === 'normal' ? 0x811c9dc5 : 0x01000193;
  for (const byte of entry.data) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h >>> 0;
}

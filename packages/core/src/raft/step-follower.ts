import { message } from './message.js';
import type { Raft } from './raft.js';
import type { Message } from './types.js';

/** Messages of the current term to a follower. */
export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case 'append':
      heardFromLeader(r, m);
      handleAppend(r, m);
      break;
    case 'heartbeat':
      heardFromLeader(r, m);
      handleHeartbeat(r, m);
      break;
    case 'snapshot':
      heardFromLeader(r, m);
      handleSnapshot(r, m);
      break;
    case 'timeout-now':
      // Our leader asks us to take over (leadership transfer): campaign now, skipping PreVote.
      r.hup('leadership-transfer', m.from);
      break;
    case 'read-index-resp':
      if (m.context === null) break;
      if (m.reject) r.readsRefused.push(m.context);
      else r.readStates.push({ index: m.index, context: m.context });
      break;
    default:
      break;
  }
}

function heardFromLeader(r: Raft, m: Message): void {
  r.electionElapsed = 0;
  r.followLeader(m.from);
}

/** Shared with candidates, which step down and then handle the append as followers. */
export function handleAppend(r: Raft, m: Message): void {
  const log = r.log;
  if (m.index < log.committed) {
    // Everything up to our commit index matches the leader's already: say how far we are.
    r.send(message('append-resp', r.id, m.from, r.term, { index: log.committed, commit: log.committed }));
    return;
  }
  let lastNew = log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew === undefined && r.cfg.unsafe.appendWithoutPrevCheck === true && m.index <= log.lastIndex()) {
    lastNew = unsafeAppendWithoutPrevCheck(r, m);
  }
  if (lastNew !== undefined) {
    r.send(message('append-resp', r.id, m.from, r.term, { index: lastNew, commit: log.committed }));
    return;
  }
  // Fast backtracking: name the conflicting term and where it starts, or where our log ends.
  let rejectHint: number;
  let hintTerm: number;
  if (m.index > log.lastIndex()) {
    rejectHint = log.lastIndex() + 1;
    hintTerm = 0;
  } else {
    hintTerm = log.term(m.index) ?? 0;
    rejectHint = hintTerm === 0 ? log.committed + 1 : log.firstIndexOfTermAt(m.index);
  }
  r.send(message('append-resp', r.id, m.from, r.term, { index: m.index, reject: true, rejectHint, hintTerm }));
}

/** The planted bug: overwrite from m.index + 1 on without checking that the entry before matches. */
function unsafeAppendWithoutPrevCheck(r: Raft, m: Message): number {
  const log = r.log;
  const keep = m.entries.filter((entry) => entry.index > log.committed);
  if (keep.length > 0) log.append(keep);
  const lastNew = m.index + m.entries.length;
  log.commitTo(Math.min(m.commit, lastNew, log.lastIndex()));
  return lastNew;
}

export function handleHeartbeat(r: Raft, m: Message): void {
  r.log.commitTo(Math.min(m.commit, r.log.lastIndex()));
  // The commit index we know: a leader that removed itself waits for a quorum to know it.
  r.send(message('heartbeat-resp', r.id, m.from, r.term, { context: m.context, commit: r.log.committed }));
}

export function handleSnapshot(r: Raft, m: Message): void {
  const snapshot = m.snapshot;
  if (snapshot === null) return;
  const { index, term, conf } = snapshot.meta;
  if (index <= r.log.committed) {
    r.send(message('append-resp', r.id, m.from, r.term, { index: r.log.committed }));
    return;
  }
  if (r.log.matchTerm(index, term)) {
    // We already have the snapshot's last entry: the log matches up to it, just commit. Answer
    // `index`, not our last index: entries after it may be a deposed leader's, and the leader
    // would count them as its own.
    r.log.commitTo(index);
    r.send(message('append-resp', r.id, m.from, r.term, { index }));
    return;
  }
  r.log.restore(snapshot);
  r.tracker.applyConf(conf, r.log.lastIndex() + 1);
  r.send(message('append-resp', r.id, m.from, r.term, { index: r.log.lastIndex() }));
}

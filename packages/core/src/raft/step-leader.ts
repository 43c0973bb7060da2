import { message } from './message.js';
import type { Progress } from './progress.js';
import type { Raft } from './raft.js';
import type { Message } from './types.js';

/** Messages of the current term to the leader. */
export function stepLeader(r: Raft, m: Message): void {
  const progress = r.tracker.progress.get(m.from);
  if (!progress) return; // not a member (any more)
  switch (m.type) {
    case 'append-resp':
      progress.recentActive = true;
      if (m.reject) handleAppendRejection(r, m, progress);
      else {
        handleAppendAck(r, m, progress);
        r.commitKnownBy(m.from, m.commit);
      }
      break;
    case 'heartbeat-resp':
      handleHeartbeatResponse(r, m, progress);
      r.commitKnownBy(m.from, m.commit);
      break;
    case 'read-index':
      handleForwardedRead(r, m);
      break;
    default:
      break;
  }
}

function handleAppendRejection(r: Raft, m: Message, progress: Progress): void {
  let nextHint = m.rejectHint;
  if (m.hintTerm > 0) {
    // If we have entries of the follower's conflicting term, resume right after our last one;
    // otherwise skip the follower's whole run of that term.
    const last = r.log.lastIndexOfTerm(m.hintTerm, m.index);
    if (last !== undefined) nextHint = last + 1;
  }
  if (!progress.maybeDecrTo(m.index, nextHint)) return;
  if (progress.state === 'replicate') progress.becomeProbe();
  r.sendAppend(m.from);
}

function handleAppendAck(r: Raft, m: Message, progress: Progress): void {
  if (!progress.maybeUpdate(m.index)) return;
  if (progress.state === 'probe') {
    progress.becomeReplicate();
  } else if (progress.state === 'snapshot' && progress.match + 1 >= r.log.firstIndex()) {
    progress.becomeProbe();
    progress.becomeReplicate();
  } else if (progress.state === 'replicate') {
    progress.inflights.freeLE(m.index);
  }
  if (r.maybeCommit()) r.broadcastPending = true;
  while (r.sendAppend(m.from, false));
  if (m.from === r.leadTransferee && progress.match === r.log.lastIndex()) r.sendTimeoutNow(m.from);
}

function handleHeartbeatResponse(r: Raft, m: Message, progress: Progress): void {
  progress.recentActive = true;
  progress.probeSent = false;
  // A full window whose appends were all lost never drains by acknowledgements: free a slot so
  // that the next append goes out, and its answer (a rejection, usually) resynchronizes us.
  if (progress.state === 'replicate' && progress.inflights.full()) progress.inflights.freeFirstOne();
  if (progress.match < r.log.lastIndex()) r.sendAppend(m.from);
  if (m.context === null) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (!acks || !r.tracker.isQuorum(acks)) return;
  for (const request of r.readOnly.advance(m.context)) r.releaseRead(request);
}

function handleForwardedRead(r: Raft, m: Message): void {
  if (m.context === null) return;
  // A removed leader leads on only to tell the others the removal committed: it serves no reads.
  if (r.removedLeader || !r.committedEntryInCurrentTerm() || r.readOnly.full()) {
    r.send(message('read-index-resp', r.id, m.from, r.term, { reject: true, context: m.context }));
    return;
  }
  r.handleReadRequest(m.from, m.context);
}

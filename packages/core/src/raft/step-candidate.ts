import type { Raft } from './raft.js';
import type { Message } from './types.js';
import { handleAppend, handleHeartbeat, handleSnapshot } from './step-follower.js';

/** Messages of the current term to a candidate or pre-candidate. */
export function stepCandidate(r: Raft, m: Message): void {
  const ourResponse = r.role === 'pre-candidate' ? 'pre-vote-resp' : 'vote-resp';
  switch (m.type) {
    case 'append':
      r.becomeFollower(m.term, m.from, 'leader-seen', m.from); // someone already won this term
      handleAppend(r, m);
      break;
    case 'heartbeat':
      r.becomeFollower(m.term, m.from, 'leader-seen', m.from);
      handleHeartbeat(r, m);
      break;
    case 'snapshot':
      r.becomeFollower(m.term, m.from, 'leader-seen', m.from);
      handleSnapshot(r, m);
      break;
    case 'vote-resp':
    case 'pre-vote-resp':
      if (m.type === ourResponse) r.poll(m.from, !m.reject);
      break;
    default:
      break;
  }
}

import { assert } from '../assert.js';
import { RaftError } from './errors.js';
import type { ConfState, NodeId } from './types.js';

/**
 * A membership change, carried in a 'conf-change' entry and applied when that entry is applied.
 * - simple: at most one voter changes, which is safe without a joint phase (thesis §4.1);
 * - joint: any change, through the joint configuration old+new (thesis §4.3). The leader leaves
 *   the joint configuration on its own once the joint entry is applied;
 * - leave-joint: ends the joint configuration (the leader proposes it; callers need not).
 */
export type ConfChange =
  | {
      readonly kind: 'simple';
      readonly action: 'add-voter' | 'add-learner' | 'remove';
      readonly node: NodeId;
      /**
       * Where the added node listens. Raft ignores it; the state machine keeps it, so a new
       * member's addresses reach every replica, a node restarted later and a snapshot alike.
       */
      readonly addresses?: MemberAddresses;
    }
  | { readonly kind: 'joint'; readonly voters: readonly NodeId[]; readonly learners: readonly NodeId[] }
  | { readonly kind: 'leave-joint' };

/** A member's advertised addresses, each 'host:port'. */
export interface MemberAddresses {
  readonly peer: string;
  readonly client: string;
}

/**
 * What a conf-change entry carries: the change, and the whole configuration it leads to. Carrying
 * the result makes each entry self-contained, so a node that joins later learns the full
 * membership from the log alone, and every replica applies exactly what the leader validated.
 */
export interface ConfChangeEntry {
  readonly change: ConfChange;
  readonly conf: ConfState;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfChange(entry: ConfChangeEntry): Uint8Array {
  return encoder.encode(JSON.stringify(entry));
}

/** Decodes a conf-change entry; a malformed one is a bug in whoever wrote the log, so it asserts. */
export function decodeConfChange(data: Uint8Array): ConfChangeEntry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch {
    assert(false, 'conf-change entry is not valid JSON');
  }
  const entry = parsed as ConfChangeEntry;
  assert(typeof entry === 'object' && entry !== null, 'conf-change entry is not an object');
  assert(typeof entry.change === 'object' && entry.change !== null, 'conf-change entry has no change');
  const conf = entry.conf as ConfState | undefined;
  const isIdList = (v: unknown): boolean => Array.isArray(v) && v.every((id) => Number.isInteger(id) && id > 0);
  assert(
    conf !== undefined && isIdList(conf.voters) && isIdList(conf.learners) && isIdList(conf.votersOutgoing),
    'conf-change entry has no valid configuration',
  );
  return entry;
}

const sorted = (ids: Iterable<NodeId>): NodeId[] => [...new Set(ids)].sort((a, b) => a - b);

/** The configuration after `change`; throws CONF_CHANGE_INVALID when it is not allowed from `conf`. */
export function nextConf(conf: ConfState, change: ConfChange): ConfState {
  const joint = conf.votersOutgoing.length > 0;
  const invalid = (why: string): never => {
    throw new RaftError('CONF_CHANGE_INVALID', why);
  };
  switch (change.kind) {
    case 'leave-joint':
      if (!joint) invalid('not in a joint configuration');
      return { voters: conf.voters, learners: conf.learners, votersOutgoing: [] };
    case 'joint': {
      if (joint) invalid('already in a joint configuration');
      if (change.voters.length === 0) invalid('a configuration needs at least one voter');
      const voters = sorted(change.voters);
      const learners = sorted(change.learners);
      if (learners.some((id) => voters.includes(id))) invalid('a node cannot be both voter and learner');
      // Demoting a voter straight to learner would make it both an outgoing voter and a learner.
      if (learners.some((id) => conf.voters.includes(id))) invalid('demote a voter by removing it first');
      if (voters.concat(learners).some((id) => !Number.isInteger(id) || id <= 0)) invalid('node ids are positive integers');
      return { voters, learners, votersOutgoing: conf.voters };
    }
    case 'simple': {
      if (joint) invalid('leave the joint configuration first');
      const { action, node } = change;
      if (!Number.isInteger(node) || node <= 0) invalid(`node id ${node} is not a positive integer`);
      if (change.addresses !== undefined) {
        if (action === 'remove') invalid('a removal carries no addresses');
        const { peer, client } = change.addresses;
        if (typeof peer !== 'string' || typeof client !== 'string' || peer === '' || client === '') {
          invalid('addresses need a peer and a client address');
        }
      }
      const voters = conf.voters.filter((id) => id !== node);
      const learners = conf.learners.filter((id) => id !== node);
      if (action === 'add-voter') voters.push(node);
      else if (action === 'add-learner') {
        if (conf.voters.includes(node)) invalid('demote a voter by removing it first');
        learners.push(node);
      }
      if (voters.length === 0) invalid('cannot remove the last voter');
      return { voters: sorted(voters), learners: sorted(learners), votersOutgoing: [] };
    }
  }
}

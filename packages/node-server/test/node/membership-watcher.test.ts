import t from 'tap';
import { pino } from 'pino';
import type { ConfState, MemberAddresses, NodeId, RaftStatus } from '@kvapp/core';
import type { HostPort } from '../../src/config/node-config.js';
import { MemberDirectory } from '../../src/node/member-directory.js';
import { MembershipWatcher } from '../../src/node/membership-watcher.js';

const none: ConfState = { voters: [], learners: [], votersOutgoing: [] };
const addressOf = (id: NodeId): MemberAddresses => ({ peer: `127.0.0.1:${7000 + id}`, client: `127.0.0.1:${8000 + id}` });

/** Node 5 that joined a cluster of 1-4 (the join told it their addresses), with a status the test sets. */
function joinedNode() {
  let status: RaftStatus = {
    id: 5,
    term: 1,
    vote: 0,
    lead: 0,
    role: 'follower',
    commit: 0,
    applied: 0,
    lastIndex: 0,
    leadTransferee: 0,
    conf: none,
    progress: new Map(),
  };
  const bootstrap = new Map([1, 2, 3, 4].map((id) => [id, addressOf(id)] as const));
  const directory = new MemberDirectory({
    self: 5,
    selfAddresses: () => addressOf(5),
    flagPeers: new Map(),
    flagClients: new Map(),
    bootstrap: () => bootstrap,
    fromLog: () => new Map(),
  });
  const peerSets: NodeId[][] = [];
  const watcher = new MembershipWatcher({
    id: 5,
    status: () => status,
    appliedIndex: () => status.applied,
    memberAddresses: () => new Map(),
    directory,
    setPeers: (peers: ReadonlyMap<NodeId, HostPort>) => peerSets.push([...peers.keys()].sort((a, b) => a - b)),
    logger: pino({ level: 'silent' }),
    initialConf: none,
    flagVoters: null,
    recoveredCommit: 0,
    promoter: null,
  });
  const set = (change: Partial<RaftStatus>): void => {
    status = { ...status, ...change };
  };
  return { watcher, peerSets, set };
}

t.test('a node whose configuration (from an older snapshot) leaves its leader out still dials that leader', async (t) => {
  const { watcher, peerSets, set } = joinedNode();
  watcher.period();
  t.same(peerSets.at(-1), [1, 2, 3, 4], 'before any configuration: the members the join named');
  // The leader's snapshot predates the leader's own addition: its configuration is 1-3, the leader is 4.
  set({ lead: 4, conf: { voters: [1, 2, 3], learners: [], votersOutgoing: [] }, applied: 60, commit: 60 });
  watcher.period();
  t.same(peerSets.at(-1), [1, 2, 3, 4], 'the leader stays a peer, so its appends get answers');
  const calls = peerSets.length;
  watcher.period();
  t.equal(peerSets.length, calls, 'nothing changed: the peers are not set again');
  set({ lead: 3 });
  watcher.period();
  t.same(peerSets.at(-1), [1, 2, 3], 'a new leader inside the configuration: its members only');
  t.end();
});

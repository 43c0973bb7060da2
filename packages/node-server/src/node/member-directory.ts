import type { ConfState, MemberAddresses, NodeId, RaftStatus } from '@kvapp/core';
import type { MemberInfo, MemberRole } from '@kvapp/client/protocol';
import { formatHostPort, parseHostPort } from '../config/host-port.js';
import type { HostPort } from '../config/node-config.js';

export interface MemberDirectoryOptions {
  readonly self: NodeId;
  /** What this node tells others to use for it (known once its ports are bound). */
  readonly selfAddresses: () => MemberAddresses;
  /** --peers and --client-addresses: this node's own view, which wins (a proxy, a moved host). */
  readonly flagPeers: ReadonlyMap<NodeId, HostPort>;
  readonly flagClients: ReadonlyMap<NodeId, HostPort>;
  /** The bootstrap members' addresses (bootstrap.json). */
  readonly bootstrap: () => ReadonlyMap<NodeId, MemberAddresses>;
  /** Addresses that came with conf-change entries, as applied (the state machine). */
  readonly fromLog: () => ReadonlyMap<NodeId, MemberAddresses>;
}

/**
 * Where each member is reached. Who is a member comes from the log alone; where it listens is,
 * in order: this node's flags, the conf-change entry that added it, what the data dir was
 * bootstrapped with. Flags win because they are this node's view of the network: in the chaos
 * harness each node reaches each other one through its own proxy.
 */
export class MemberDirectory {
  constructor(private readonly o: MemberDirectoryOptions) {}

  peer(id: NodeId): HostPort | null {
    if (id === this.o.self) return parseHostPort(this.o.selfAddresses().peer);
    const flag = this.o.flagPeers.get(id);
    if (flag !== undefined) return flag;
    const known = this.o.fromLog().get(id) ?? this.o.bootstrap().get(id);
    return known ? parseHostPort(known.peer) : null;
  }

  /** 'host:port' for redirects; null when unknown. */
  client(id: NodeId): string | null {
    if (id === this.o.self) return this.o.selfAddresses().client;
    const flag = this.o.flagClients.get(id);
    if (flag !== undefined) return formatHostPort(flag);
    // An empty client address: the bootstrap flags named the peer address only.
    return (this.o.fromLog().get(id) ?? this.o.bootstrap().get(id))?.client || null;
  }

  /**
   * The peers the transport dials: every member of `conf` but this node, and the `leader` (0:
   * none known), where an address is known. A node that joined has no configuration until the log
   * reaches it, yet must answer the leader meanwhile: then it dials the members the join told it of.
   */
  peersOf(conf: ConfState, leader: NodeId = 0): { peers: Map<NodeId, HostPort>; unknown: NodeId[] } {
    const peers = new Map<NodeId, HostPort>();
    const unknown: NodeId[] = [];
    const ids = conf.voters.length > 0 ? membersOf(conf) : [...this.o.bootstrap().keys()];
    // The leader may be missing from a configuration that came in an older snapshot (a node that
    // joined past the leader's last snapshot): its appends bring the newer one, so answer it.
    if (leader !== 0 && !ids.includes(leader)) ids.push(leader);
    for (const id of ids) {
      if (id === this.o.self) continue;
      const at = this.peer(id);
      if (at === null) unknown.push(id);
      else peers.set(id, at);
    }
    return { peers, unknown };
  }

  /** The member list an admin request answers: match and lag only when `status` is a leader's. */
  list(status: RaftStatus): MemberInfo[] {
    const { conf } = status;
    const leading = status.role === 'leader';
    return membersOf(conf).map((id) => {
      const role: MemberRole = conf.voters.includes(id) ? 'voter' : conf.learners.includes(id) ? 'learner' : 'leaving';
      const progress = leading ? status.progress.get(id) : undefined;
      const match = progress === undefined ? null : id === status.id ? status.lastIndex : progress.match;
      const peer = this.peer(id);
      return {
        id,
        peer: peer === null ? null : formatHostPort(peer),
        client: this.client(id),
        role,
        leader: id === status.lead,
        match,
        lag: match === null ? null : Math.max(0, status.lastIndex - match),
      };
    });
  }
}

/** Voters, learners and outgoing voters, ascending, each once. */
export function membersOf(conf: ConfState): NodeId[] {
  return [...new Set([...conf.voters, ...conf.learners, ...conf.votersOutgoing])].sort((a, b) => a - b);
}

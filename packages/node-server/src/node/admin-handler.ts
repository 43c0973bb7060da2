import { nextConf, type ConfChange, type ConfState, type NodeId, type RaftStatus } from '@kvapp/core';
import type { ClientRequest, ClientResult, ErrorCode } from '@kvapp/client/protocol';
import { RequestError } from '@kvapp/kernel';
import type { ClientContext } from '../client-api/index.js';
import type { AdminAccess } from './admin-access.js';
import type { KernelHost } from './kernel-host.js';
import type { SnapshotChunk, SnapshotExpectation } from '../snapshot/snapshot-reader.js';
import { membersOf, type MemberDirectory } from './member-directory.js';

/** The admin requests of the client protocol. */
export type AdminRequest = Extract<
  ClientRequest,
  {
    op:
      | 'member-list'
      | 'member-add'
      | 'member-promote'
      | 'member-remove'
      | 'member-replace'
      | 'leader-transfer'
      | 'snapshot-now'
      | 'snapshot-read';
  }
>;

export interface AdminLimits {
  /** A learner further behind the leader's last index than this is not promoted. */
  readonly promoteLagMax: number;
  /** How long a membership change may take to apply before the answer is `timeout` (fate unknown). */
  readonly changeWaitMs: number;
  /** How often the wait looks at the applied index. */
  readonly pollMs: number;
}

export const ADMIN_LIMITS_DEFAULT: AdminLimits = { promoteLagMax: 1000, changeWaitMs: 5000, pollMs: 10 };

export interface AdminHandlerOptions {
  readonly driver: KernelHost;
  readonly directory: MemberDirectory;
  readonly access: AdminAccess;
  /** A not_leader answer naming the leader, or null on the leader. */
  readonly notLeader: () => ClientResult | null;
  readonly limits?: Partial<AdminLimits>;
  /** Reads chunks of the snapshot this node holds (snapshot-read); unset: refused. */
  readonly snapshots?: { read(offset: number, expect?: SnapshotExpectation): Promise<SnapshotChunk> };
}

/**
 * Membership, leadership and snapshot requests. A change is answered once this node has applied
 * it (not merely proposed it), so `kvapp member add` returning means the learner is a member.
 */
export function createAdminHandler(o: AdminHandlerOptions): (request: AdminRequest, from: ClientContext) => Promise<ClientResult> {
  const limits = { ...ADMIN_LIMITS_DEFAULT, ...o.limits };
  const fail = (code: ErrorCode, message: string): ClientResult => ({ ok: false, error: { code, message } });
  const conf = (): ConfState => o.driver.status().conf;

  /** Proposes `change` and waits until this node applied it and `done` holds of the configuration. */
  const change = async (proposal: ConfChange, done: (c: ConfState) => boolean): Promise<ClientResult> => {
    try {
      nextConf(conf(), proposal); // an invalid change is refused for good...
    } catch (error) {
      return fail('refused', error instanceof Error ? error.message : String(error));
    }
    let placed: { index: number };
    try {
      placed = await o.driver.proposeConfChange(proposal);
    } catch (error) {
      if (!(error instanceof RequestError)) throw error;
      // ...the core's other refusals pass (another change still applying, a transfer, a full
      // log): come back as OVERLOADED, and a client retries them.
      if (error.code === 'OVERLOADED') return fail('overloaded', error.message);
      if (error.code === 'NOT_LEADER') return o.notLeader() ?? fail('not_leader', error.message);
      return fail('timeout', error.message);
    }
    // Until applied here and `done` holds (a joint change: until the leader left the joint
    // configuration too, which it proposes by itself once the joint entry applied).
    const until = performance.now() + limits.changeWaitMs;
    while (o.driver.appliedIndex < placed.index || !done(conf())) {
      if (performance.now() >= until) {
        const why =
          o.driver.appliedIndex < placed.index
            ? 'did not apply'
            : 'applied, but the configuration is not the one asked for (a leader change replaced it, another change followed, or a joint change is not left yet)';
        return fail('timeout', `the change at index ${placed.index} ${why} within ${limits.changeWaitMs} ms; it may still`);
      }
      await new Promise((resolve) => setTimeout(resolve, limits.pollMs));
    }
    return { ok: true, index: placed.index };
  };

  const isMember = (c: ConfState, id: NodeId) => membersOf(c).includes(id);

  /** Refused while learner `id` lags the leader by more than promoteLagMax: it is not made a voter. */
  const lagging = (status: RaftStatus, id: NodeId): ClientResult | null => {
    const lag = status.lastIndex - (status.progress.get(id)?.match ?? 0);
    if (lag <= limits.promoteLagMax) return null;
    return fail(
      'refused',
      `learner ${id} is ${lag} entries behind the leader (at most ${limits.promoteLagMax}); try again once it caught up`,
    );
  };

  return async (request, from) => {
    const refusal = o.access(request.token, from);
    if (refusal !== null) return fail('unauthorized', refusal);
    // Snapshots are taken and read on the node asked, leader or not.
    if (request.op !== 'snapshot-now' && request.op !== 'snapshot-read') {
      const redirect = o.notLeader();
      if (redirect) return redirect;
    }
    const status = o.driver.status();
    switch (request.op) {
      case 'member-list':
        return { ok: true, members: o.directory.list(status) };
      case 'member-add': {
        if (status.conf.voters.includes(request.node)) return fail('refused', `node ${request.node} is a voter already`);
        const addresses = { peer: request.peer, client: request.client };
        const r = await change({ kind: 'simple', action: 'add-learner', node: request.node, addresses }, (c) =>
          c.learners.includes(request.node),
        );
        return r.ok ? { ok: true, members: o.directory.list(o.driver.status()) } : r;
      }
      case 'member-promote': {
        if (!status.conf.learners.includes(request.node)) return fail('refused', `node ${request.node} is not a learner`);
        const behind = lagging(status, request.node);
        if (behind) return behind;
        return change({ kind: 'simple', action: 'add-voter', node: request.node }, (c) => c.voters.includes(request.node));
      }
      case 'member-remove':
        if (!isMember(status.conf, request.node)) return fail('refused', `node ${request.node} is not a member`);
        return change({ kind: 'simple', action: 'remove', node: request.node }, (c) => !isMember(c, request.node));
      case 'member-replace': {
        const { node, by } = request;
        if (!status.conf.voters.includes(node)) return fail('refused', `node ${node} is not a voter`);
        if (!status.conf.learners.includes(by)) return fail('refused', `node ${by} is not a learner (add it first: kvapp member add)`);
        const behind = lagging(status, by);
        if (behind) return behind;
        const voters = [...status.conf.voters.filter((id) => id !== node), by];
        const learners = status.conf.learners.filter((id) => id !== by);
        return change(
          { kind: 'joint', voters, learners },
          (c) => c.votersOutgoing.length === 0 && c.voters.includes(by) && !isMember(c, node),
        );
      }
      case 'leader-transfer':
        if (!status.conf.voters.includes(request.node)) return fail('refused', `node ${request.node} is not a voter`);
        if (request.node === status.id) return { ok: true };
        try {
          await o.driver.transferLeadership(request.node);
          return { ok: true };
        } catch (error) {
          if (!(error instanceof RequestError)) throw error;
          return error.code === 'NOT_LEADER' ? (o.notLeader() ?? fail('not_leader', error.message)) : fail('refused', error.message);
        }
      case 'snapshot-now':
        // Answered once the snapshot file is on disk, so that a snapshot-read right after it
        // reads that snapshot (kvapp snapshot save does just that).
        try {
          return { ok: true, index: (await o.driver.compactNow()).index };
        } catch (error) {
          if (!(error instanceof RequestError)) throw error;
          return fail('timeout', error.message);
        }
      case 'snapshot-read': {
        if (o.snapshots === undefined) return fail('refused', 'this node keeps no snapshot files');
        const expect =
          request.index !== undefined && request.checksum !== undefined ? { index: request.index, checksum: request.checksum } : undefined;
        const chunk = await o.snapshots.read(request.offset, expect);
        if (!chunk.ok) return fail(chunk.code, chunk.message);
        return { ok: true, snapshot: chunk.snapshot, data: chunk.data.toString('base64') };
      }
    }
  };
}

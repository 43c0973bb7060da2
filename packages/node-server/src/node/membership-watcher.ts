import { KvClient } from '@kvapp/client';
import type { ConfState, MemberAddresses, NodeId, RaftStatus } from '@kvapp/core';
import type { Logger } from 'pino';
import type { HostPort } from '../config/node-config.js';
import { membersOf, type MemberDirectory } from './member-directory.js';

/** A joined learner asks to be promoted this often, this many times at most, until it is a voter. */
const PROMOTE_RETRY_MS = 1000;
const PROMOTE_ATTEMPTS_MAX = 600;

export interface MembershipWatcherOptions {
  readonly id: NodeId;
  /** The Raft status and the member addresses the log gave, as applied. */
  readonly status: () => RaftStatus;
  readonly appliedIndex: () => number;
  readonly memberAddresses: () => ReadonlyMap<NodeId, MemberAddresses>;
  readonly directory: MemberDirectory;
  /** Where the transport dials each member. */
  readonly setPeers: (peers: ReadonlyMap<NodeId, HostPort>) => void;
  readonly logger: Logger;
  /** The configuration the node started in (bootstrap.json, or none when it joins). */
  readonly initialConf: ConfState;
  /** The voters --peers names; null: nothing to compare (a new data dir, or no --peers). */
  readonly flagVoters: readonly NodeId[] | null;
  /** The commit index recovered from disk: the log's configuration is whole once applied past it. */
  readonly recoveredCommit: number;
  /** Asks the cluster to promote this node while it is a learner (--join without --join-as-learner); null: never. */
  readonly promoter: {
    readonly endpoints: readonly string[];
    readonly adminToken: string | null;
    readonly tls: { cert: Buffer; key: Buffer; ca: Buffer } | null;
    readonly answerMs: number;
  } | null;
}

/**
 * Follows the configuration as conf-change entries apply: the transport dials every member, a
 * node that is not (or no longer) a member says so once and serves nothing, a restart whose
 * --peers disagree with the log is warned about, and a node that joined asks to become a voter.
 * Looked at every `period()` call (the node calls it each heartbeat).
 */
export class MembershipWatcher {
  private lastSeen = '';
  /** The configuration, the addresses and the leader that the transport's peers were last set from. */
  private lastPeersKey = '';
  private flagsChecked: boolean;
  private outOfServiceNow: string | null;
  private readonly promoter: KvClient | null;
  private promoteAttempts = 0;
  private promoting = false;
  private nextPromoteAt = 0;

  constructor(private readonly o: MembershipWatcherOptions) {
    this.flagsChecked = o.flagVoters === null;
    this.outOfServiceNow = outOfServiceReason(o.id, o.initialConf);
    const p = o.promoter;
    this.promoter =
      p === null
        ? null
        : new KvClient({
            endpoints: p.endpoints,
            // An attempt waits past the leader's own bound on applying the change.
            opDeadlineMs: p.answerMs,
            attemptMsMax: p.answerMs,
            ...(p.adminToken !== null ? { adminToken: p.adminToken } : {}),
            ...(p.tls !== null ? { tls: p.tls } : {}),
          });
  }

  /** Why this node serves no data right now (not added yet, or removed), or null. */
  get outOfService(): string | null {
    return this.outOfServiceNow;
  }

  period(): void {
    const s = this.o.status();
    const key = `${JSON.stringify(s.conf)} ${JSON.stringify([...this.o.memberAddresses()])}`;
    const peersKey = `${key} ${s.lead}`;
    if (peersKey !== this.lastPeersKey) {
      this.lastPeersKey = peersKey;
      const { peers, unknown } = this.o.directory.peersOf(s.conf, s.lead);
      this.o.setPeers(peers);
      if (unknown.length > 0) this.o.logger.warn({ members: unknown }, 'no address known for these members: name them in --peers');
    }
    if (key !== this.lastSeen) {
      this.lastSeen = key;
      const before = this.outOfServiceNow;
      this.outOfServiceNow = outOfServiceReason(this.o.id, s.conf);
      this.o.logger.info({ conf: s.conf, applied: this.o.appliedIndex() }, 'configuration');
      if (this.outOfServiceNow !== null && this.outOfServiceNow !== before) this.o.logger.warn({ conf: s.conf }, this.outOfServiceNow);
    }
    this.checkFlags(s);
    this.maybeAskPromotion(s);
  }

  close(): void {
    this.promoter?.close();
  }

  /** Once this node has caught up with a leader, so that the log's configuration is whole. */
  private checkFlags(s: RaftStatus): void {
    const flagVoters = this.o.flagVoters;
    if (this.flagsChecked || flagVoters === null || s.lead === 0) return;
    if (this.o.appliedIndex() < Math.max(s.commit, this.o.recoveredCommit)) return;
    this.flagsChecked = true;
    const voters = [...s.conf.voters].sort((a, b) => a - b);
    if (voters.join(',') === flagVoters.join(',')) return;
    this.o.logger.warn(
      { flags: flagVoters, log: voters },
      'the peer flags name other voters than the log: the log wins (the flags only bootstrap a new data dir, and give addresses)',
    );
  }

  private maybeAskPromotion(s: RaftStatus): void {
    const promoter = this.promoter;
    const now = Date.now();
    if (promoter === null || this.promoting || !s.conf.learners.includes(this.o.id)) return;
    if (now < this.nextPromoteAt || this.promoteAttempts >= PROMOTE_ATTEMPTS_MAX) return;
    this.promoting = true;
    this.promoteAttempts++;
    this.nextPromoteAt = now + PROMOTE_RETRY_MS;
    void promoter.promoteMember(this.o.id).then((outcome) => {
      this.promoting = false;
      if (outcome.status === 'ok') this.o.logger.info({ index: outcome.index }, 'promoted to voter');
      else if (this.promoteAttempts === PROMOTE_ATTEMPTS_MAX)
        this.o.logger.warn({ outcome }, 'gave up asking to be promoted: promote this node by hand');
      else this.o.logger.debug({ outcome }, 'not promoted yet');
    });
  }
}

/** Why a node with configuration `conf` serves nothing (not added yet, or removed), or null. */
export function outOfServiceReason(id: NodeId, conf: ConfState): string | null {
  const members = membersOf(conf);
  if (members.length === 0) return `node ${id} is not a member yet: it waits to be added (kvapp member add)`;
  if (members.includes(id)) return null;
  return `node ${id} was removed from the cluster's configuration; it serves nothing until it is added again`;
}

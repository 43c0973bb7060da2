import { KvClient, type MemberInfo } from '@kvapp/client';
import type { MemberAddresses, NodeId } from '@kvapp/core';
import { StartError } from './start-error.js';

export interface JoinOptions {
  /** Client endpoints of the running cluster. */
  readonly endpoints: readonly string[];
  readonly id: NodeId;
  /** What the cluster is told to use for this node. */
  readonly addresses: MemberAddresses;
  readonly adminToken: string | null;
  readonly tls: { cert: Buffer; key: Buffer; ca: Buffer } | null;
  /** The whole join, retries included, ends within this. */
  readonly deadlineMs: number;
  /** One attempt waits this long: past the leader's own bound on applying the change. */
  readonly attemptMs: number;
}

/**
 * Asks a running cluster to add this node as a learner; resolves with the members after the
 * addition (their addresses seed this node's directory). Refused or unreachable: JOIN_FAILED.
 */
export async function joinCluster(o: JoinOptions): Promise<readonly MemberInfo[]> {
  for (const [what, address] of [
    ['peer', o.addresses.peer],
    ['client', o.addresses.client],
  ] as const) {
    // Kept in the log for good: an address no other host can dial would be a member no one reaches.
    if (/^(0\.0\.0\.0|\[::\]|\[::0\]):/.test(address)) {
      throw new StartError(
        'JOIN_FAILED',
        `cannot join as node ${o.id}: its ${what} address ${address} is unspecified; give --advertise-${what} HOST:PORT`,
        {
          endpoints: [...o.endpoints],
          reason: `unspecified ${what} address`,
        },
      );
    }
  }
  const client = new KvClient({
    endpoints: o.endpoints,
    opDeadlineMs: o.deadlineMs,
    attemptMsMax: o.attemptMs,
    // Nothing listening on any endpoint is a wrong flag, not a moment to wait out.
    giveUpWhenAllRefused: true,
    ...(o.adminToken !== null ? { adminToken: o.adminToken } : {}),
    ...(o.tls !== null ? { tls: o.tls } : {}),
  });
  try {
    const outcome = await client.addMember(o.id, o.addresses);
    if (outcome.status === 'ok' && outcome.members !== undefined) return outcome.members;
    const reason =
      outcome.status === 'fail'
        ? `${outcome.error.code}: ${outcome.error.message}`
        : outcome.status === 'indeterminate'
          ? `outcome unknown (${outcome.reason}); start again to retry`
          : 'no member list in the answer';
    throw new StartError('JOIN_FAILED', `cannot join the cluster at ${o.endpoints.join(',')} as node ${o.id}: ${reason}`, {
      endpoints: [...o.endpoints],
      reason,
    });
  } finally {
    client.close();
  }
}

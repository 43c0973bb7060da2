import type { KvResult, NodeId } from '@kvapp/core';
import type { ClientRequest, ClientResult, ErrorCode } from '@kvapp/client/protocol';
import { RequestError, type ClientCommand } from '@kvapp/kernel';
import type { ClientContext } from '../client-api/index.js';
import type { AdminRequest } from './admin-handler.js';
import type { KernelHost } from './kernel-host.js';

export interface ClientHandlerOptions {
  readonly driver: KernelHost;
  /** The client address ('host:port') to name in a redirect to `id`, or null if unknown. */
  readonly clientAddressOf: (id: NodeId) => string | null;
  /** TEST ONLY: answer reads from local state on any node, skipping ReadIndex (a planted bug). */
  readonly unsafeLocalReads: boolean;
  /** Answers the admin requests (members, leader transfer, snapshot). */
  readonly admin: (request: AdminRequest, from: ClientContext) => Promise<ClientResult>;
  /** Why this node serves no data (removed from the configuration), or null while it does. */
  readonly outOfService: () => string | null;
  /** Counts each request's op and result code. */
  readonly count?: (op: string, result: string) => void;
}

/** The not_leader answer naming the leader's client address, or null on the leader. */
export function notLeaderAnswer(driver: KernelHost, clientAddressOf: (id: NodeId) => string | null): () => ClientResult | null {
  return () => {
    const soft = driver.softState;
    if (soft.role === 'leader') return null;
    const leader = soft.leader === 0 ? null : clientAddressOf(soft.leader);
    const message = soft.leader === 0 ? 'no leader is known right now' : `node ${soft.leader} is the leader`;
    return { ok: false, error: { code: 'not_leader', message, leader } };
  };
}

/** Maps the client protocol onto the driver: the node's whole client-facing behaviour. */
export function createClientHandler(o: ClientHandlerOptions): (request: ClientRequest, from: ClientContext) => Promise<ClientResult> {
  const fail = (code: ErrorCode, message: string, extra: { leader?: string | null; current?: string | null } = {}): ClientResult => ({
    ok: false,
    error: { code, message, ...extra },
  });

  const notLeader = notLeaderAnswer(o.driver, o.clientAddressOf);

  const fromDriverError = (error: unknown): ClientResult => {
    if (!(error instanceof RequestError)) throw error;
    switch (error.code) {
      case 'NOT_LEADER':
        return fail('not_leader', error.message, { leader: error.leader === 0 ? null : o.clientAddressOf(error.leader) });
      case 'OVERLOADED':
        return fail('overloaded', error.message);
      case 'PROPOSAL_DROPPED':
        return fail('unavailable', error.message);
      case 'BAD_REQUEST':
        return fail('bad_request', error.message);
      case 'TIMEOUT':
      case 'STOPPED':
      case 'OUTCOME_UNKNOWN':
        return fail('timeout', error.message);
    }
  };

  const fromKvResult = (result: KvResult): ClientResult => {
    switch (result.type) {
      case 'ok':
        return { ok: true, prev: result.value };
      case 'registered':
        return { ok: true, clientId: result.clientId };
      case 'cas-mismatch':
        return fail('cas_mismatch', 'the current value is not the expected one', { current: result.current });
      case 'session-expired':
        return fail('session_expired', 'the session is unknown or expired; register a new one');
      case 'stale-seq':
        return fail('stale_seq', `seq is below the session's last (${result.lastSeq})`);
      case 'rejected':
        return fail('rejected', `${result.code}: ${result.message}`);
    }
  };

  const handle = async (request: ClientRequest, from: ClientContext): Promise<ClientResult> => {
    const away = request.op === 'status' ? null : o.outOfService();
    if (away !== null) return fail('unavailable', away);
    switch (request.op) {
      case 'status': {
        const s = o.driver.status();
        return {
          ok: true,
          status: {
            nodeId: s.id,
            role: s.role,
            term: s.term,
            leader: s.lead === 0 ? null : o.clientAddressOf(s.lead),
            leaderId: s.lead === 0 ? null : s.lead,
            commitIndex: s.commit,
            appliedIndex: o.driver.appliedIndex,
          },
        };
      }
      case 'get': {
        if (request.read === 'serializable' || o.unsafeLocalReads) return { ok: true, value: o.driver.readLocal(request.key) };
        const redirect = notLeader();
        if (redirect) return redirect;
        try {
          return { ok: true, value: await o.driver.readLinearizable(request.key) };
        } catch (error) {
          return fromDriverError(error);
        }
      }
      case 'register':
      case 'put':
      case 'delete':
      case 'cas': {
        const redirect = notLeader();
        if (redirect) return redirect;
        try {
          return fromKvResult(await o.driver.execute(toCommand(request)));
        } catch (error) {
          return fromDriverError(error);
        }
      }
      case 'member-list':
      case 'member-add':
      case 'member-promote':
      case 'member-remove':
      case 'member-replace':
      case 'leader-transfer':
      case 'snapshot-now':
      case 'snapshot-read':
        return o.admin(request, from);
    }
  };

  return async (request, from) => {
    const result = await handle(request, from);
    o.count?.(request.op, result.ok ? 'ok' : result.error.code);
    return result;
  };
}

function toCommand(request: Extract<ClientRequest, { op: 'register' | 'put' | 'delete' | 'cas' }>): ClientCommand {
  if (request.op === 'register') return { kind: 'register' };
  const session = request.session ?? null;
  switch (request.op) {
    case 'put':
      return { kind: 'put', key: request.key, value: request.value, session };
    case 'delete':
      return { kind: 'delete', key: request.key, session };
    case 'cas':
      return { kind: 'cas', key: request.key, expected: request.expected, value: request.value, session };
  }
}

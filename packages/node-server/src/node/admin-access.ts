import { createHash, timingSafeEqual } from 'node:crypto';
import type { ClientContext } from '../client-api/index.js';

export interface AdminAccessOptions {
  /** --admin-token; null when none is set. */
  readonly token: string | null;
  /** The client port speaks TLS, so a verified client certificate can prove who is asking. */
  readonly tls: boolean;
  /** The host the client port listens on. */
  readonly clientHost: string;
}

/** Why an admin request is refused, or null when it may go on. */
export type AdminAccess = (token: string | undefined, from: ClientContext) => string | null;

/**
 * Who may change membership, move the leader or force a snapshot:
 * - with TLS, a client whose certificate the cluster CA signed;
 * - anyone with the admin token (--admin-token), compared in constant time;
 * - with neither TLS nor a token, only clients of a client port bound to loopback: admin is never
 *   open by default to the network.
 */
export function adminAccess(o: AdminAccessOptions): AdminAccess {
  const expected = o.token === null ? null : digest(o.token);
  const loopback = isLoopback(o.clientHost);
  return (token, from) => {
    if (o.tls && from.verifiedCertificate) return null;
    if (expected !== null) {
      if (token !== undefined && timingSafeEqual(digest(token), expected)) return null;
      return token === undefined ? 'admin requests need the admin token' : 'the admin token is wrong';
    }
    if (o.tls) return 'admin requests need a client certificate signed by the cluster CA (or an --admin-token on the node)';
    if (loopback) return null;
    return 'admin requests are refused: the client port is not on loopback and the node has no --admin-token';
  };
}

/** Equal-length digests, so the comparison's time says nothing about the token. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Packr, Unpackr } from 'msgpackr';
import type WebSocket from 'ws';
import type { NodeId } from '@kvapp/core';
import { TransportError } from './errors.js';

/**
 * The peer handshake. The accepting side speaks first, so the dialer must prove the secret over
 * a nonce it has never seen (no replay):
 *   acceptor → dialer   ['kvapp-peer', 1, 'challenge', clusterId, acceptorId, nonceA]
 *   dialer → acceptor   ['kvapp-peer', 1, 'auth', clusterId, dialerId, acceptorId, nonceD, proofD]
 *   acceptor → dialer   ['kvapp-peer', 1, 'welcome', proofA]
 * proofD = HMAC-SHA256(secret, ['dialer', clusterId, dialerId, acceptorId, nonceA, nonceD])
 * proofA = the same with 'acceptor': the dialer learns it reached a member of its cluster, not
 * a stranger collecting Raft messages. Proofs bind both ids and both nonces, so one cannot be
 * reflected or relayed to another link. Proofs are compared with crypto.timingSafeEqual.
 * The acceptor reads no Raft message before it has checked proofD; the dialer sends none before
 * it has checked proofA.
 */
export const HANDSHAKE_VERSION = 1;
const MAGIC = 'kvapp-peer';
export const NONCE_BYTES = 32;

/** WebSocket close codes (application range 4000–4999), stable: the harness and logs use them. */
export const CLOSE = {
  handshakeMalformed: 4001,
  wrongCluster: 4002,
  badProof: 4003,
  wrongNode: 4004,
  handshakeTimeout: 4005,
  badFrame: 4006,
  replaced: 4007,
  tooManyHandshakes: 4008,
  shuttingDown: 4009,
} as const;

export interface HandshakeIdentity {
  readonly clusterId: string;
  readonly nodeId: NodeId;
  readonly secret: string | Uint8Array;
}

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false });

function reject(closeCode: number, message: string): never {
  throw new TransportError('TRANSPORT_HANDSHAKE_REJECTED', message, closeCode);
}

function proof(
  secret: string | Uint8Array,
  role: 'dialer' | 'acceptor',
  clusterId: string,
  dialer: NodeId,
  acceptor: NodeId,
  nonceA: Uint8Array,
  nonceD: Uint8Array,
): Buffer {
  const input = JSON.stringify([
    role,
    clusterId,
    dialer,
    acceptor,
    Buffer.from(nonceA).toString('hex'),
    Buffer.from(nonceD).toString('hex'),
  ]);
  return createHmac('sha256', secret).update(input).digest();
}

function proofsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Decodes a handshake frame of the given kind and field count; rejects anything else. */
function parse(frame: Uint8Array, kind: string, fields: number): unknown[] {
  let x: unknown;
  try {
    x = unpackr.unpack(frame);
  } catch {
    return reject(CLOSE.handshakeMalformed, `${kind}: not msgpack`);
  }
  if (!Array.isArray(x) || x.length !== fields || x[0] !== MAGIC || x[1] !== HANDSHAKE_VERSION || x[2] !== kind) {
    return reject(CLOSE.handshakeMalformed, `expected a version ${HANDSHAKE_VERSION} ${kind} frame`);
  }
  return x;
}

function nodeId(x: unknown, what: string): NodeId {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 1) reject(CLOSE.handshakeMalformed, `${what} must be an integer >= 1`);
  return x;
}

function nonce(x: unknown, what: string): Uint8Array {
  if (!(x instanceof Uint8Array) || x.length !== NONCE_BYTES) reject(CLOSE.handshakeMalformed, `${what} must be ${NONCE_BYTES} bytes`);
  return x;
}

// ---------------------------------------------------------------------------------------------
// Pure steps (tested directly).

export function makeChallenge(me: HandshakeIdentity): { frame: Uint8Array; nonce: Uint8Array } {
  const n = randomBytes(NONCE_BYTES);
  return { frame: packr.pack([MAGIC, HANDSHAKE_VERSION, 'challenge', me.clusterId, me.nodeId, n]), nonce: n };
}

/** Dialer: checks the challenge comes from the node it meant to reach, and proves the secret. */
export function answerChallenge(
  me: HandshakeIdentity,
  expectedPeer: NodeId,
  frame: Uint8Array,
): { frame: Uint8Array; expectedWelcome: Buffer } {
  const [, , , clusterId, acceptor, nonceAIn] = parse(frame, 'challenge', 6);
  if (clusterId !== me.clusterId)
    reject(CLOSE.wrongCluster, `peer is in cluster ${JSON.stringify(clusterId)}, not ${JSON.stringify(me.clusterId)}`);
  const acceptorId = nodeId(acceptor, 'acceptor id');
  if (acceptorId !== expectedPeer) reject(CLOSE.wrongNode, `dialed node ${expectedPeer} but node ${acceptorId} answered`);
  const nonceA = nonce(nonceAIn, 'challenge nonce');
  const nonceD = randomBytes(NONCE_BYTES);
  const proofD = proof(me.secret, 'dialer', me.clusterId, me.nodeId, acceptorId, nonceA, nonceD);
  return {
    frame: packr.pack([MAGIC, HANDSHAKE_VERSION, 'auth', me.clusterId, me.nodeId, acceptorId, nonceD, proofD]),
    expectedWelcome: proof(me.secret, 'acceptor', me.clusterId, me.nodeId, acceptorId, nonceA, nonceD),
  };
}

/** Acceptor: checks the dialer's proof over our nonce; returns the dialer's id and our welcome. */
export function checkAuth(me: HandshakeIdentity, nonceA: Uint8Array, frame: Uint8Array): { peer: NodeId; frame: Uint8Array } {
  const [, , , clusterId, dialer, acceptor, nonceDIn, proofIn] = parse(frame, 'auth', 8);
  if (clusterId !== me.clusterId)
    reject(CLOSE.wrongCluster, `peer is in cluster ${JSON.stringify(clusterId)}, not ${JSON.stringify(me.clusterId)}`);
  const dialerId = nodeId(dialer, 'dialer id');
  if (nodeId(acceptor, 'acceptor id') !== me.nodeId)
    reject(CLOSE.wrongNode, `peer meant node ${String(acceptor)}, this is node ${me.nodeId}`);
  if (dialerId === me.nodeId) reject(CLOSE.wrongNode, `peer claims this node's own id ${me.nodeId}`);
  const nonceD = nonce(nonceDIn, 'auth nonce');
  if (!(proofIn instanceof Uint8Array)) reject(CLOSE.handshakeMalformed, 'proof must be bytes');
  const expected = proof(me.secret, 'dialer', me.clusterId, dialerId, me.nodeId, nonceA, nonceD);
  if (!proofsEqual(proofIn, expected)) reject(CLOSE.badProof, `node ${dialerId} does not know the cluster secret`);
  const proofA = proof(me.secret, 'acceptor', me.clusterId, dialerId, me.nodeId, nonceA, nonceD);
  return { peer: dialerId, frame: packr.pack([MAGIC, HANDSHAKE_VERSION, 'welcome', proofA]) };
}

/** Dialer: checks the acceptor knows the secret too. */
export function checkWelcome(expected: Buffer, frame: Uint8Array): void {
  const [, , , proofIn] = parse(frame, 'welcome', 4);
  if (!(proofIn instanceof Uint8Array) || !proofsEqual(proofIn, expected)) reject(CLOSE.badProof, 'peer does not know the cluster secret');
}

// ---------------------------------------------------------------------------------------------
// Drivers over a WebSocket. Each resolves once, or rejects with a TransportError after closing
// the socket with the stable code.

function nextFrame(ws: WebSocket): Promise<Uint8Array> {
  return new Promise((resolve, reject_) => {
    const cleanup = () => {
      ws.off('message', onMessage);
      ws.off('close', onClose);
    };
    const onMessage = (data: WebSocket.RawData, isBinary: boolean) => {
      cleanup();
      if (!isBinary || !Buffer.isBuffer(data))
        reject_(new TransportError('TRANSPORT_HANDSHAKE_REJECTED', 'handshake frames are binary', CLOSE.handshakeMalformed));
      else resolve(data);
    };
    const onClose = (code: number) => {
      cleanup();
      reject_(new TransportError('TRANSPORT_HANDSHAKE_REJECTED', `closed during the handshake (${code})`, code));
    };
    ws.on('message', onMessage);
    ws.on('close', onClose);
  });
}

async function guarded<T>(ws: WebSocket, handshakeMsMax: number, run: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | null = null;
  const timeout = new Promise<never>((_, reject_) => {
    timer = setTimeout(
      () => reject_(new TransportError('TRANSPORT_HANDSHAKE_REJECTED', `no handshake within ${handshakeMsMax} ms`, CLOSE.handshakeTimeout)),
      handshakeMsMax,
    );
  });
  try {
    return await Promise.race([run(), timeout]);
  } catch (err) {
    const e =
      err instanceof TransportError ? err : new TransportError('TRANSPORT_HANDSHAKE_REJECTED', String(err), CLOSE.handshakeMalformed);
    if (ws.readyState === ws.OPEN && e.closeCode !== undefined && e.closeCode >= 4000) ws.close(e.closeCode, e.message.slice(0, 120));
    else ws.terminate();
    throw e;
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

/** Acceptor side; resolves to the authenticated peer id. */
export function acceptHandshake(ws: WebSocket, me: HandshakeIdentity, handshakeMsMax: number): Promise<NodeId> {
  return guarded(ws, handshakeMsMax, async () => {
    const challenge = makeChallenge(me);
    // Listen before speaking: the answer can arrive before send() returns.
    const answer = nextFrame(ws);
    ws.send(challenge.frame);
    const auth = checkAuth(me, challenge.nonce, await answer);
    ws.send(auth.frame);
    return auth.peer;
  });
}

/** Dialer side, on an open socket; resolves when the link may carry Raft messages. */
export function dialHandshake(ws: WebSocket, me: HandshakeIdentity, peer: NodeId, handshakeMsMax: number): Promise<void> {
  return guarded(ws, handshakeMsMax, async () => {
    const challenge = nextFrame(ws);
    const answer = answerChallenge(me, peer, await challenge);
    const welcome = nextFrame(ws);
    ws.send(answer.frame);
    checkWelcome(answer.expectedWelcome, await welcome);
  });
}

import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import WebSocket from 'ws';
import type { Message, NodeId } from '@kvapp/core';
import { PeerTransport, type PeerTransportOptions } from '../../src/transport/peer-transport.js';

export const silent: Logger = pino({ level: 'silent' });

/** A logger whose JSON lines land in `lines`, to assert on what was logged. */
export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

export function message(from: NodeId, to: NodeId, over: Partial<Message> = {}): Message {
  return {
    type: 'append',
    from,
    to,
    term: 1,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    context: null,
    snapshot: null,
    ...over,
  };
}

export interface Node {
  readonly transport: PeerTransport;
  readonly received: Message[];
  readonly address: { host: string; port: number };
}

export const fastLimits = { handshakeMsMax: 500, pingIntervalMs: 200, reconnectMsMin: 10, reconnectMsMax: 50 };

export async function startNode(
  t: { teardown: (fn: () => unknown) => void },
  id: NodeId,
  peers: ReadonlyMap<NodeId, { host: string; port: number }> = new Map(),
  over: Partial<PeerTransportOptions> = {},
): Promise<Node> {
  const received: Message[] = [];
  const transport = await PeerTransport.start({
    clusterId: 'test-cluster',
    nodeId: id,
    secret: 'sesame',
    listen: { host: '127.0.0.1', port: 0 },
    peers,
    onMessage: (m) => received.push(m),
    logger: silent,
    limits: fastLimits,
    ...over,
  });
  t.teardown(() => transport.close());
  return { transport, received, address: { host: '127.0.0.1', port: transport.port } };
}

/** Polls `cond` every 5 ms; rejects after `ms`. */
export async function until(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const inboxes = new WeakMap<WebSocket, Buffer[]>();

/**
 * A raw WebSocket to a port; resolves once open (or rejects). Frames are collected from the
 * start, since the acceptor's challenge can arrive in the same tick as 'open'.
 */
export function rawSocket(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const inbox: Buffer[] = [];
    inboxes.set(ws, inbox);
    ws.on('message', (d) => inbox.push(d as Buffer));
    ws.on('error', () => undefined);
    ws.once('open', () => resolve(ws));
    ws.once('close', (code) => reject(new Error(`closed ${code} before open`)));
  });
}

export async function nextFrame(ws: WebSocket, ms = 2000): Promise<Buffer> {
  const inbox = inboxes.get(ws)!;
  await until(() => inbox.length > 0 || ws.readyState === WebSocket.CLOSED, ms, 'a frame');
  const f = inbox.shift();
  if (f === undefined) throw new Error('closed without a frame');
  return f;
}

export function closed(ws: WebSocket): Promise<number> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve(-1);
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}

export function fcSeed(): number {
  return process.env['FC_SEED'] !== undefined ? Number(process.env['FC_SEED']) : (Date.now() ^ (process.pid << 8)) >>> 1;
}

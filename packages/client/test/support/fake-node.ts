import { WebSocketServer, type WebSocket } from 'ws';
import { PROTOCOL_VERSION, type ClientRequest, type ClientResult } from '../../src/protocol.js';

/**
 * A scripted stand-in for a node's client port: a real `ws` server on 127.0.0.1, port 0.
 * The script sees each parsed request and decides: answer, stay silent, drop the connection,
 * or send garbage.
 */
export type Action = { readonly reply: ClientResult } | { readonly raw: string } | { readonly drop: true } | { readonly silent: true };

export interface FakeNode {
  readonly endpoint: string;
  /** Every request received, in order. */
  readonly requests: ClientRequest[];
  /** Connections accepted so far, and those still open. */
  readonly connections: { accepted: number; open: number };
  close(): Promise<void>;
}

export async function fakeNode(script: (req: ClientRequest, n: number) => Action): Promise<FakeNode> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const requests: ClientRequest[] = [];
  const connections = { accepted: 0, open: 0 };
  wss.on('connection', (ws: WebSocket) => {
    connections.accepted++;
    connections.open++;
    ws.on('close', () => connections.open--);
    ws.on('message', (data) => {
      const req = JSON.parse(String(data)) as ClientRequest;
      requests.push(req);
      const action = script(req, requests.length);
      if ('reply' in action) ws.send(JSON.stringify({ v: PROTOCOL_VERSION, id: req.id, ...action.reply }));
      else if ('raw' in action) ws.send(action.raw);
      else if ('drop' in action) ws.terminate();
    });
  });
  const port = (wss.address() as { port: number }).port;
  return {
    endpoint: `127.0.0.1:${port}`,
    requests,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

/** A leader that registers sessions and keeps a tiny store: enough for the happy paths. */
export function leaderScript(store = new Map<string, string>()): (req: ClientRequest) => Action {
  let sessions = 0;
  return (req) => {
    switch (req.op) {
      case 'register':
        return { reply: { ok: true, clientId: `c${++sessions}` } };
      case 'get':
        return { reply: { ok: true, value: store.get(req.key) ?? null } };
      case 'put': {
        const prev = store.get(req.key) ?? null;
        store.set(req.key, req.value);
        return { reply: { ok: true, prev } };
      }
      case 'delete': {
        const prev = store.get(req.key) ?? null;
        store.delete(req.key);
        return { reply: { ok: true, prev } };
      }
      case 'cas': {
        const cur = store.get(req.key) ?? null;
        if (cur !== req.expected) return { reply: { ok: false, error: { code: 'cas_mismatch', message: 'no match', current: cur } } };
        store.set(req.key, req.value);
        return { reply: { ok: true, prev: cur } };
      }
      case 'status':
        return {
          reply: { ok: true, status: { nodeId: 1, role: 'leader', term: 3, leader: null, leaderId: 1, commitIndex: 7, appliedIndex: 7 } },
        };
    }
  };
}

/** An endpoint where nothing listens: a port that was just free. */
export async function deadEndpoint(): Promise<string> {
  const n = await fakeNode(() => ({ silent: true }));
  await n.close();
  return n.endpoint;
}

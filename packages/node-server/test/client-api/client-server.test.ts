import t from 'tap';
import fc from 'fast-check';
import { connect } from 'node:net';
import WebSocket from 'ws';
import type { ClientRequest, ClientResult } from '@kvapp/client/protocol';
import { KvClient } from '@kvapp/client';
import { ClientServer, CLIENT_CLOSE, type ClientHandler, type ClientServerLimits } from '../../src/client-api/client-server.js';
import { fcSeed, silent, until } from '../transport/support.js';

const store = (): ClientHandler => {
  const m = new Map<string, string>();
  let sessions = 0;
  return async (req: ClientRequest): Promise<ClientResult> => {
    switch (req.op) {
      case 'get':
        return { ok: true, value: m.get(req.key) ?? null };
      case 'put': {
        const prev = m.get(req.key) ?? null;
        m.set(req.key, req.value);
        return { ok: true, prev };
      }
      case 'register':
        return { ok: true, clientId: `s${++sessions}` };
      default:
        return { ok: false, error: { code: 'bad_request', message: 'not in this test' } };
    }
  };
};

async function start(t: Tap, handler: ClientHandler = store(), limits: Partial<ClientServerLimits> = {}) {
  const s = await ClientServer.start({ listen: { host: '127.0.0.1', port: 0 }, handler, logger: silent, limits });
  t.teardown(() => s.close());
  return s;
}
type Tap = typeof t;

/** A raw client socket that collects response objects. */
async function raw(port: number): Promise<{ ws: WebSocket; replies: Array<Record<string, unknown>>; closeCode: Promise<number> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  const replies: Array<Record<string, unknown>> = [];
  ws.on('message', (d) => replies.push(JSON.parse(String(d)) as Record<string, unknown>));
  ws.on('error', () => undefined);
  const closeCode = new Promise<number>((r) => ws.once('close', (c) => r(c)));
  await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
  return { ws, replies, closeCode };
}

t.test('valid requests reach the handler; responses carry the id', async (t) => {
  const s = await start(t);
  const c = await raw(s.port);
  c.ws.send(JSON.stringify({ v: 1, id: 7, op: 'put', key: 'k', value: 'v' }));
  c.ws.send(JSON.stringify({ v: 1, id: 8, op: 'get', key: 'k' }));
  await until(() => c.replies.length === 2);
  t.strictSame(c.replies, [
    { v: 1, id: 7, ok: true, prev: null },
    { v: 1, id: 8, ok: true, value: 'v' },
  ]);
  c.ws.close();
});

t.test('works with the real KvClient end to end', async (t) => {
  const s = await start(t);
  const client = new KvClient({ endpoints: [`127.0.0.1:${s.port}`], opDeadlineMs: 2000 });
  t.teardown(() => client.close());
  t.strictSame(await client.put('a', '1'), { status: 'ok', prev: null });
  t.strictSame(await client.get('a'), { status: 'ok', value: '1' });
});

t.test('malformed requests get a typed bad_request, the connection stays usable', async (t) => {
  const s = await start(t);
  const c = await raw(s.port);
  c.ws.send('{not json');
  c.ws.send(JSON.stringify({ v: 1, id: 3, op: 'put', key: 'k' }));
  c.ws.send(JSON.stringify({ v: 2, id: 4, op: 'get', key: 'k' }));
  c.ws.send(JSON.stringify({ v: 1, id: 5, op: 'get', key: 'k' }));
  await until(() => c.replies.length === 4);
  t.match(c.replies[0], { id: null, ok: false, error: { code: 'bad_request' } });
  t.match(c.replies[1], { id: 3, ok: false, error: { code: 'bad_request', message: /value/ } });
  t.match(c.replies[2], { id: 4, ok: false, error: { code: 'bad_request', message: /version/ } });
  t.match(c.replies[3], { id: 5, ok: true });
  t.equal(s.stats().badRequests, 3);
  c.ws.close();
});

t.test('binary frames are undecodable: answered, then the connection is closed', async (t) => {
  const s = await start(t);
  const c = await raw(s.port);
  c.ws.send(Buffer.from([1, 2, 3]));
  t.equal(await c.closeCode, CLIENT_CLOSE.undecodable);
  t.match(c.replies[0], { id: null, ok: false, error: { code: 'bad_request' } });
});

t.test('requests in flight per connection are bounded: the excess is answered overloaded', async (t) => {
  const waiting: Array<() => void> = [];
  const handler: ClientHandler = (req) => new Promise((r) => waiting.push(() => r({ ok: true, value: String(req.id) })));
  const s = await start(t, handler, { inflightRequestsMax: 2 });
  const c = await raw(s.port);
  for (let id = 1; id <= 4; id++) c.ws.send(JSON.stringify({ v: 1, id, op: 'get', key: 'k' }));
  await until(() => c.replies.length === 2 && waiting.length === 2);
  t.strictSame(
    c.replies.map((r) => [r['id'], (r['error'] as { code?: string } | undefined)?.code]),
    [
      [3, 'overloaded'],
      [4, 'overloaded'],
    ],
  );
  for (const w of waiting.splice(0)) w();
  await until(() => c.replies.length === 4);
  c.ws.send(JSON.stringify({ v: 1, id: 5, op: 'get', key: 'k' }));
  await until(() => waiting.length === 1);
  waiting[0]!();
  await until(() => c.replies.length === 5);
  t.match(c.replies[4], { id: 5, ok: true }, 'room again once answers went out');
  t.equal(s.stats().overloaded, 2);
  c.ws.close();
});

t.test('a handler that throws or hangs is answered internal / timeout', async (t) => {
  const handler: ClientHandler = (req) => (req.op === 'put' ? Promise.reject(new Error('boom')) : new Promise(() => undefined));
  const s = await start(t, handler, { requestMsMax: 100 });
  const c = await raw(s.port);
  c.ws.send(JSON.stringify({ v: 1, id: 1, op: 'put', key: 'k', value: 'v' }));
  c.ws.send(JSON.stringify({ v: 1, id: 2, op: 'get', key: 'k' }));
  await until(() => c.replies.length === 2);
  t.match(
    c.replies.find((r) => r['id'] === 1),
    { ok: false, error: { code: 'internal' } },
  );
  t.match(
    c.replies.find((r) => r['id'] === 2),
    { ok: false, error: { code: 'timeout' } },
  );
  c.ws.close();
});

t.test('a frame over frameBytesMax closes the connection (1009), the server goes on', async (t) => {
  const s = await start(t, store(), { frameBytesMax: 256 });
  const c = await raw(s.port);
  c.ws.send(JSON.stringify({ v: 1, id: 1, op: 'put', key: 'k', value: 'x'.repeat(500) }));
  t.equal(await c.closeCode, 1009);
  const d = await raw(s.port);
  d.ws.send(JSON.stringify({ v: 1, id: 1, op: 'get', key: 'k' }));
  await until(() => d.replies.length === 1);
  t.match(d.replies[0], { ok: true, value: null });
  d.ws.close();
});

t.test('fast-check: garbage frames and raw bytes on the client port leave it serving', async (t) => {
  const s = await start(t);
  const seed = fcSeed();
  t.comment(`fast-check seed ${seed} (replay with FC_SEED=${seed})`);
  const jsonish = fc.oneof(
    fc.string(),
    fc.json(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc
      .record({
        v: fc.constantFrom(1, 2, '1'),
        id: fc.oneof(fc.integer(), fc.string(), fc.constant(null)),
        op: fc.constantFrom('get', 'put', 'cas', 'x'),
        key: fc.oneof(fc.string(), fc.integer()),
        value: fc.anything(),
      })
      .map((v) => JSON.stringify(v)),
  );
  const frame = fc.oneof(
    jsonish.map((s) => ({ text: s })),
    fc.uint8Array({ maxLength: 300 }).map((b) => ({ bytes: b })),
  );
  const attack = fc.oneof(
    fc.record({ frames: fc.array(frame, { minLength: 1, maxLength: 5 }) }),
    fc.record({ tcp: fc.uint8Array({ minLength: 1, maxLength: 300 }) }),
  );
  let error: unknown = null;
  try {
    await fc.assert(
      fc.asyncProperty(attack, async (a) => {
        if ('tcp' in a) return rawTcp(s.port, a.tcp);
        const c = await raw(s.port);
        for (const f of a.frames) if (c.ws.readyState === WebSocket.OPEN) c.ws.send('text' in f ? f.text : f.bytes);
        await new Promise((r) => setTimeout(r, 2));
        c.ws.terminate();
      }),
      { seed, numRuns: 60 },
    );
  } catch (e) {
    error = e;
  }
  t.equal(error, null, 'no run failed');
  const client = new KvClient({ endpoints: [`127.0.0.1:${s.port}`], opDeadlineMs: 2000 });
  t.teardown(() => client.close());
  t.strictSame(await client.put('after', 'x'), { status: 'ok', prev: null }, 'a valid client still works afterwards');
});

function rawTcp(port: number, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1', () => {
      sock.write(bytes);
      setTimeout(() => sock.destroy(), 2);
    });
    sock.on('error', () => undefined);
    sock.on('close', () => resolve());
  });
}

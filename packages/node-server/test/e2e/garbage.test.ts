import t from 'tap';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { Packr } from 'msgpackr';
import WebSocket from 'ws';
import { KvClient } from '@kvapp/client';
import { parseRequest } from '@kvapp/client/protocol';
import { decodeMessage } from '../../src/transport/codec.js';
import { dialHandshake } from '../../src/transport/handshake.js';
import { ProcessCluster } from './process-cluster.js';

/**
 * Garbage on the peer and client ports of a real node: raw bytes, bogus HTTP upgrades, broken
 * and oversize WebSocket frames, text frames, garbage after an authenticated peer handshake, and
 * connections that go silent half-way. Afterwards the node still serves, and /metrics counts what
 * it refused. Seeded: KVAPP_GARBAGE_SEED replays a run, KVAPP_GARBAGE_RUNS sets its length.
 */
const SEED = Number(process.env['KVAPP_GARBAGE_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env['KVAPP_GARBAGE_RUNS'] ?? 50);
/** How long one attack waits for the node to answer or hang up before moving on. */
const SETTLE_MS = 150;
/** Generous bounds for steps that must succeed, so a test process or node starved of CPU still passes. */
const HANDSHAKE_MS = 10_000;
const HANDSHAKE_ATTEMPTS = 3;
const CLOSE_WAIT_MS = 10_000;
const SECRET = 'e2e-cluster-secret';
const HOST = '127.0.0.1';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const packr = new Packr({ useRecords: false });

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

type Port = 'peer' | 'client';

type Attack =
  | { kind: 'raw'; bytes: Uint8Array }
  | { kind: 'bogus-upgrade'; request: string; frames: Uint8Array[] }
  | { kind: 'frames-after-upgrade'; frames: Uint8Array[] }
  | { kind: 'oversize'; opcode: number; masked: boolean }
  | { kind: 'ws-messages'; messages: Array<{ text: boolean; data: Uint8Array | string }> }
  | { kind: 'peer-auth-then-garbage'; messages: Array<{ text: boolean; data: Uint8Array | string }> }
  | { kind: 'silent'; stage: 'tcp' | 'partial-upgrade' | 'partial-frame' };

/** A WebSocket frame as a client would put it on the wire, with any opcode/flags/length. */
function wsFrame(o: { fin: boolean; rsv: number; opcode: number; masked: boolean; payload: Uint8Array; lengthOverride?: bigint }): Buffer {
  const length = o.lengthOverride ?? BigInt(o.payload.length);
  const head: number[] = [(o.fin ? 0x80 : 0) | ((o.rsv & 7) << 4) | (o.opcode & 0x0f)];
  const maskBit = o.masked ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (length < 126n) head.push(maskBit | Number(length));
  else if (length < 65536n) {
    head.push(maskBit | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(Number(length));
  } else {
    head.push(maskBit | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(length);
  }
  const key = o.masked ? randomBytes(4) : Buffer.alloc(0);
  const payload = Buffer.from(o.payload);
  if (o.masked) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ key[i % 4]!;
  return Buffer.concat([Buffer.from(head), ext, key, payload]);
}

function upgradeRequest(port: number, over: Record<string, string | null> = {}): string {
  const headers: Record<string, string | null> = {
    Host: `${HOST}:${port}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    ...over,
  };
  const lines = Object.entries(headers).flatMap(([k, v]) => (v === null ? [] : [`${k}: ${v}`]));
  return `GET / HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

const frameArb = fc
  .record({
    fin: fc.boolean(),
    rsv: fc.integer({ min: 0, max: 7 }),
    opcode: fc.integer({ min: 0, max: 15 }),
    masked: fc.boolean(),
    payload: fc.uint8Array({ maxLength: 300 }),
  })
  .map((f) => wsFrame(f));

/** Messages that are never a valid Raft message nor a valid client request. */
const messageArb = fc.oneof(
  fc.string({ maxLength: 200 }).map((s) => ({ text: true, data: s })),
  fc.uint8Array({ maxLength: 400 }).map((b) => ({ text: false, data: b })),
  fc.jsonValue({ maxDepth: 3 }).map((v) => ({ text: true, data: JSON.stringify(v) ?? 'null' })),
  fc.anything({ maxDepth: 3 }).map((v) => {
    try {
      return { text: false, data: new Uint8Array(packr.pack(v)) };
    } catch {
      return { text: false, data: new Uint8Array([0xc1]) }; // 0xc1 is never valid msgpack
    }
  }),
  // Almost a Raft message: right shape, wrong fields.
  fc
    .array(fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.string({ maxLength: 8 })), { minLength: 14, maxLength: 14 })
    .map((a) => ({ text: false, data: new Uint8Array(packr.pack([1, ...a.slice(1)])) })),
);

const bogusUpgradeArb = fc.oneof(
  fc.constant({ 'Sec-WebSocket-Key': null }),
  fc.constant({ 'Sec-WebSocket-Version': '7' }), // ws speaks 8 and 13
  fc.constant({ Upgrade: 'h2c' }),
  fc.string({ maxLength: 40 }).map((k) => ({ 'Sec-WebSocket-Key': k.replace(/[\r\n]/g, '') })),
  fc.constant({ Connection: 'keep-alive' }),
);

const attackArb: fc.Arbitrary<Attack> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 2000 }).map((bytes): Attack => ({ kind: 'raw', bytes })),
  fc
    .tuple(bogusUpgradeArb, fc.array(frameArb, { maxLength: 3 }))
    .map(([over, frames]): Attack => ({ kind: 'bogus-upgrade', request: JSON.stringify(over), frames })),
  fc.array(frameArb, { minLength: 1, maxLength: 4 }).map((frames): Attack => ({ kind: 'frames-after-upgrade', frames })),
  fc.record({ opcode: fc.constantFrom(1, 2), masked: fc.boolean() }).map((o): Attack => ({ kind: 'oversize', ...o })),
  fc.array(messageArb, { minLength: 1, maxLength: 4 }).map((messages): Attack => ({ kind: 'ws-messages', messages })),
  fc.array(messageArb, { minLength: 1, maxLength: 3 }).map((messages): Attack => ({ kind: 'peer-auth-then-garbage', messages })),
  fc
    .constantFrom('tcp', 'partial-upgrade', 'partial-frame')
    .map((stage): Attack => ({ kind: 'silent', stage: stage as 'tcp' | 'partial-upgrade' | 'partial-frame' })),
);

/** Writes, then waits until the node hangs up or SETTLE_MS passes; never throws. */
async function sendRaw(
  port: number,
  chunks: Array<string | Uint8Array>,
  keep: Socket[] | null = null,
): Promise<{ response: string; closed: boolean }> {
  const socket = connect(port, HOST);
  let response = '';
  let closed = false;
  socket.on('data', (d: Buffer) => (response += d.toString('latin1')));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  try {
    await once(socket, 'connect');
  } catch {
    return { response, closed: true };
  }
  for (const c of chunks) if (!socket.destroyed) socket.write(c);
  const until = Date.now() + SETTLE_MS;
  while (!closed && Date.now() < until) await sleep(10);
  if (keep) keep.push(socket);
  else socket.destroy();
  return { response, closed };
}

/** Raw TCP up to a completed upgrade (101); the socket, or null when the node refused. */
async function upgraded(port: number): Promise<{ socket: Socket; closed: () => boolean } | null> {
  const socket = connect(port, HOST);
  socket.on('error', () => undefined);
  let closed = false;
  socket.on('close', () => (closed = true));
  let head = '';
  try {
    await once(socket, 'connect');
    socket.write(upgradeRequest(port));
    const until = Date.now() + HANDSHAKE_MS;
    socket.on('data', (d: Buffer) => (head += d.toString('latin1')));
    while (!head.includes('\r\n\r\n') && !closed && Date.now() < until) await sleep(5);
  } catch {
    socket.destroy();
    return null;
  }
  if (!head.startsWith('HTTP/1.1 101')) {
    socket.destroy();
    return null;
  }
  return { socket, closed: () => closed };
}

async function wsOpen(port: number): Promise<WebSocket | null> {
  const ws = new WebSocket(`ws://${HOST}:${port}/`, { perMessageDeflate: false, handshakeTimeout: 3000 });
  ws.on('error', () => undefined);
  try {
    await once(ws, 'open');
    return ws;
  } catch {
    return null;
  }
}

async function sendMessages(ws: WebSocket, messages: Array<{ text: boolean; data: Uint8Array | string }>): Promise<void> {
  for (const m of messages) {
    if (ws.readyState !== WebSocket.OPEN) break;
    ws.send(m.text ? (typeof m.data === 'string' ? m.data : Buffer.from(m.data).toString('latin1')) : m.data, { binary: !m.text });
  }
  const until = Date.now() + SETTLE_MS;
  while (ws.readyState !== WebSocket.CLOSED && Date.now() < until) await sleep(10);
  ws.terminate();
}

function isValidRaftMessage(data: Uint8Array): boolean {
  try {
    decodeMessage(data);
    return true;
  } catch {
    return false;
  }
}

/** What an attack must have made the node count as refused, by port. */
interface Expected {
  peer: number;
  client: number;
}

/**
 * A peer connection authenticated with the cluster secret, claiming an id no real peer uses so
 * no real link is replaced. A node that is starved of CPU may time the handshake out on either
 * side (its timers run before the socket's pending input once it wakes), so a refusal is retried
 * a few times; a handshake the node really refuses fails every attempt, with each reason.
 */
async function authenticatedPeer(port: number): Promise<WebSocket> {
  const reasons: string[] = [];
  for (let attempt = 0; attempt < HANDSHAKE_ATTEMPTS; attempt++) {
    const ws = new WebSocket(`ws://${HOST}:${port}/`, { perMessageDeflate: false, handshakeTimeout: HANDSHAKE_MS });
    ws.on('error', (err) => reasons.push(`error: ${err.message}`));
    // The handshake starts inside 'open': the challenge can arrive in the same chunk as the 101.
    const authenticated = new Promise<void>((resolve, reject) => {
      ws.once('open', () => dialHandshake(ws, { clusterId: 'kvapp', nodeId: 9, secret: SECRET }, 1, HANDSHAKE_MS).then(resolve, reject));
      ws.once('close', (code: number, reason: Buffer) => reject(new Error(`closed before the handshake (${code} ${reason.toString()})`)));
    });
    try {
      await authenticated;
      return ws;
    } catch (err) {
      reasons.push((err as Error).message);
      ws.terminate();
    }
  }
  throw new Error(`the authenticated handshake failed ${HANDSHAKE_ATTEMPTS} times: ${reasons.join('; ')}`);
}

async function runAttack(port: Port, portNumber: number, attack: Attack, silent: Socket[], expected: Expected): Promise<void> {
  switch (attack.kind) {
    case 'raw':
      await sendRaw(portNumber, [attack.bytes]);
      return;
    case 'bogus-upgrade': {
      const r = await sendRaw(portNumber, [
        upgradeRequest(portNumber, JSON.parse(attack.request) as Record<string, string | null>),
        ...attack.frames,
      ]);
      assert(!r.response.startsWith('HTTP/1.1 101'), `a bogus upgrade (${attack.request}) was accepted: ${r.response.slice(0, 80)}`);
      return;
    }
    case 'frames-after-upgrade': {
      const u = await upgraded(portNumber);
      if (u === null) return;
      // Every upgraded peer connection that does not authenticate is a refused handshake.
      if (port === 'peer') expected.peer++;
      for (const f of attack.frames) if (!u.socket.destroyed) u.socket.write(f);
      const until = Date.now() + SETTLE_MS;
      while (!u.closed() && Date.now() < until) await sleep(10);
      u.socket.destroy();
      return;
    }
    case 'oversize': {
      const u = await upgraded(portNumber);
      if (u === null) return;
      expected[port]++;
      // Only the header: the length alone is past frameBytesMax, no need to send the bytes.
      u.socket.write(
        wsFrame({
          fin: true,
          rsv: 0,
          opcode: attack.opcode,
          masked: attack.masked,
          payload: new Uint8Array(0),
          lengthOverride: 64n * 1024n * 1024n,
        }),
      );
      const until = Date.now() + CLOSE_WAIT_MS;
      while (!u.closed() && Date.now() < until) await sleep(10);
      assert(u.closed(), `${port} port: an oversize frame header did not close the connection`);
      u.socket.destroy();
      return;
    }
    case 'ws-messages': {
      const ws = await wsOpen(portNumber);
      if (ws === null) return;
      if (port === 'peer') expected.peer++;
      else {
        // Each message is refused unless it happens to parse as a request (it never should).
        const bad = attack.messages.filter((m) => !m.text || typeof m.data !== 'string' || !parseRequest(m.data).ok).length;
        // After a binary frame the node closes the connection: later messages may go unread.
        const firstBinary = attack.messages.findIndex((m) => !m.text);
        expected.client += firstBinary === -1 ? bad : Math.min(bad, firstBinary + 1);
      }
      await sendMessages(ws, attack.messages);
      return;
    }
    case 'peer-auth-then-garbage': {
      if (port === 'client') return runAttack(port, portNumber, { kind: 'ws-messages', messages: attack.messages }, silent, expected);
      const ws = await authenticatedPeer(portNumber);
      const messages = attack.messages.map((m) =>
        !m.text && isValidRaftMessage(m.data as Uint8Array) ? { text: false, data: new Uint8Array([0xc1]) } : m,
      );
      expected.peer++;
      await sendMessages(ws, messages);
      return;
    }
    case 'silent': {
      if (attack.stage === 'tcp') await sendRaw(portNumber, [], silent);
      else if (attack.stage === 'partial-upgrade') await sendRaw(portNumber, [upgradeRequest(portNumber).slice(0, 40)], silent);
      else {
        const u = await upgraded(portNumber);
        if (u === null) return;
        if (port === 'peer') expected.peer++; // its handshake times out
        u.socket.write(Buffer.from([0x82, 0xfe, 0x01])); // a binary frame header cut inside its length
        silent.push(u.socket);
      }
      return;
    }
  }
}

async function metricValue(httpPort: number, name: string): Promise<number> {
  const body = await (await fetch(`http://${HOST}:${httpPort}/metrics`)).text();
  const line = body.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.split(' ')[1]);
}

async function waitLeader(client: KvClient): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    const statuses = await client.statusAll();
    if (statuses.some((s) => s.ok && s.status.role === 'leader')) return;
    await sleep(100);
  }
  throw new Error('no leader within 15 s');
}

t.test('garbage on the peer and client ports of a real node leaves it serving, and is counted', async (t) => {
  const httpPort = await freePort();
  const cluster = await ProcessCluster.start(3, (id) => (id === 1 ? ['--http-listen', `${HOST}:${httpPort}`] : []));
  t.teardown(() => cluster.close());
  const node1 = cluster.nodes[0]!;
  const silent: Socket[] = [];
  t.teardown(() => silent.forEach((s) => s.destroy()));
  const client = new KvClient({ endpoints: cluster.endpoints, opDeadlineMs: 5_000 });
  t.teardown(() => client.close());
  await waitLeader(client);

  const expected: Expected = { peer: 0, client: 0 };
  const counts = new Map<string, number>();
  const property = fc.asyncProperty(fc.constantFrom<Port>('peer', 'client'), attackArb, async (port, attack) => {
    counts.set(`${port}/${attack.kind}`, (counts.get(`${port}/${attack.kind}`) ?? 0) + 1);
    await runAttack(port, port === 'peer' ? node1.peerPort : node1.clientPort, attack, silent, expected);
    assert(
      node1.process !== null && node1.process.exitCode === null,
      `node 1 exited after ${port}/${attack.kind}:\n${node1.output.slice(-2000)}`,
    );
  });
  try {
    // No shrinking past the first failure matters less than the seed: each run hits a live node.
    await fc.assert(property, { seed: SEED, numRuns: RUNS, endOnFailure: true });
    t.pass(`${RUNS} garbage attacks (seed ${SEED}): ${[...counts].map(([k, n]) => `${k}=${n}`).join(' ')}`);
  } catch (err) {
    t.fail(
      `garbage property failed; replay with KVAPP_GARBAGE_SEED=${SEED}\n${(err as Error).message}\n${String((err as Error).cause ?? '')}`,
    );
  }

  // With the half-open connections still open, the cluster takes a write and node 1 serves it.
  t.comment(`${silent.length} half-open connections held open during the checks`);
  const written = await client.put('after-garbage', `seed-${SEED}`);
  t.equal(written.status, 'ok', 'a write through the cluster succeeds');
  const local = new KvClient({ endpoints: [`${HOST}:${node1.clientPort}`], opDeadlineMs: 3_000 });
  t.teardown(() => local.close());
  let read = await local.get('after-garbage', { read: 'serializable' });
  for (let i = 0; i < 100 && !(read.status === 'ok' && read.value === `seed-${SEED}`); i++) {
    await sleep(50);
    read = await local.get('after-garbage', { read: 'serializable' });
  }
  t.same(read, { status: 'ok', value: `seed-${SEED}` }, 'node 1 serves a serializable read of it');
  t.ok(node1.process !== null && node1.process.exitCode === null, 'node 1 is still running');

  // The refresh runs every 250 ms, and silent peer handshakes time out after 3 s.
  let peerRejected = Number.NaN;
  let clientRejected = Number.NaN;
  for (let i = 0; i < 100; i++) {
    peerRejected = await metricValue(httpPort, 'kvapp_peer_frames_rejected_total');
    clientRejected = await metricValue(httpPort, 'kvapp_client_frames_rejected_total');
    if (peerRejected >= expected.peer && clientRejected >= expected.client) break;
    await sleep(100);
  }
  t.ok(
    peerRejected >= expected.peer,
    `kvapp_peer_frames_rejected_total ${peerRejected} >= ${expected.peer} refused peer connections/frames`,
  );
  t.ok(
    clientRejected >= expected.client,
    `kvapp_client_frames_rejected_total ${clientRejected} >= ${expected.client} refused client frames`,
  );
  t.ok(expected.peer > 0 || expected.client > 0, 'some attacks had to be refused by count');
});

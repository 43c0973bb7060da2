import t from 'tap';
import fc from 'fast-check';
import { connect, type Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { CLOSE, answerChallenge, makeChallenge } from '../../src/transport/handshake.js';
import { capturingLogger, closed, fastLimits, fcSeed, message, nextFrame, rawSocket, startNode, until } from './support.js';
import { duplicateKeys, rawLogCapture } from '../support/log-lines.js';

const peersOf = (...entries: Array<[number, { host: string; port: number }]>) => new Map(entries);

t.test('handshake accepted: messages flow A→B, payload bytes intact, counters move', async (t) => {
  const b = await startNode(t, 2);
  const a = await startNode(t, 1, peersOf([2, b.address]));
  const data = new Uint8Array([1, 2, 3, 250]);
  a.transport.send(message(1, 2, { entries: [{ term: 1, index: 1, type: 'normal', data }] }));
  await until(() => b.received.length === 1, 3000, 'delivery');
  t.strictSame([...b.received[0]!.entries[0]!.data], [1, 2, 3, 250]);
  const sa = a.transport.stats();
  const sb = b.transport.stats();
  t.equal(sa.peers.get(2)!.messagesSent, 1);
  t.equal(sb.peers.get(1)!.messagesReceived, 1);
  t.equal(sb.peers.get(1)!.bytesReceived, sa.peers.get(2)!.bytesSent);
  t.equal(sb.handshakesAccepted, 1);
  t.equal(sa.peers.get(2)!.connected, true);
});

t.test('links have one direction: B has no route to A over the connection A dialed', async (t) => {
  // B knows no peers: it can receive from A (A's dialed link) but never send back on it.
  const b = await startNode(t, 2);
  const a = await startNode(t, 1, peersOf([2, b.address]));
  a.transport.send(message(1, 2));
  await until(() => b.received.length === 1, 3000, 'A→B');
  b.transport.send(message(2, 1, { index: 1 }));
  // The refusal itself: with no link of its own to A, B counts the message unroutable and drops it.
  await until(() => b.transport.stats().messagesUnroutable === 1, 3000, 'B refused to route to A');
  t.equal(a.received.length, 0, 'nothing reached A');
  // Once B dials A itself, B→A works, on B's connection.
  b.transport.setPeers(peersOf([1, a.address]));
  b.transport.send(message(2, 1, { index: 2 }));
  await until(() => a.received.length >= 1, 3000, 'B→A');
  t.same(
    a.received.map((m) => m.index),
    [2],
    "only the message sent on B's own link ever reached A",
  );
  t.equal(a.transport.stats().handshakesAccepted, 1, "A accepted B's own connection");
  t.equal(b.transport.stats().peers.get(1)!.messagesSent, 1);
  t.equal(a.transport.stats().peers.get(2)!.messagesSent, 1, "A's link to B carried only A's message");
});

t.test('wrong secret: rejected before any Raft message is read, and logged', async (t) => {
  const cap = capturingLogger();
  const b = await startNode(t, 2, new Map(), { logger: cap.logger });
  const intruderLog = capturingLogger();
  const intruder = await startNode(t, 3, peersOf([2, b.address]), { secret: 'wrong', logger: intruderLog.logger });
  intruder.transport.send(message(3, 2));
  // The refusal, seen from both ends: B counts and logs it, and the intruder's connection is
  // closed with the bad-proof code before its handshake completes, so its queued message never left.
  await until(() => b.transport.stats().handshakesRejected >= 1, 3000, 'rejection');
  const refused = () => intruderLog.lines.find((l) => l['msg'] === 'peer handshake failed' && l['code'] === CLOSE.badProof);
  await until(() => refused() !== undefined, 3000, "the intruder's connection closed with the bad-proof code");
  t.equal(b.received.length, 0, 'no message delivered');
  t.equal(intruder.transport.stats().peers.get(2)!.messagesSent, 0, 'the intruder sent no message');
  t.equal(b.transport.stats().handshakesAccepted, 0);
  t.equal(intruder.transport.stats().peers.get(2)!.connected, false);
  const line = cap.lines.find((l) => l['msg'] === 'peer handshake rejected');
  t.equal(line?.['closeCode'], CLOSE.badProof, 'logged with the stable close code');
});

t.test('every line the transport logs names the node once and has no key twice', async (t) => {
  // As in a node: the node's logger already carries `node` (start-node's child logger).
  const named = rawLogCapture('debug');
  const bare = rawLogCapture('debug');
  const b = await startNode(t, 2, new Map(), { logger: named.logger.child({ node: 2 }) });
  const a = await startNode(t, 1, peersOf([2, b.address]), { logger: bare.logger });
  a.transport.send(message(1, 2));
  await until(() => b.received.length === 1, 3000, 'delivery');
  const intruder = await startNode(t, 3, peersOf([2, b.address]), { secret: 'wrong' });
  intruder.transport.send(message(3, 2));
  await until(() => b.transport.stats().handshakesRejected >= 1, 3000, 'rejection');
  const ws = await rawSocket(b.address.port);
  ws.send('not a handshake');
  await closed(ws);
  await a.transport.close();
  await until(() => named.lines.some((l) => l.includes('peer connected')), 3000, 'the connection log line');

  t.ok(named.lines.length >= 4, `B logged its listen, connect and both rejections (${named.lines.length} lines)`);
  t.ok(
    bare.lines.some((l) => l.includes('peer link open')),
    "A's outbound link logged through the same child chain",
  );
  for (const [expected, lines] of [
    [2, named.lines],
    [1, bare.lines],
  ] as const) {
    for (const line of lines) {
      t.same(duplicateKeys(line), [], `no key twice: ${line}`);
      t.equal((JSON.parse(line) as { node?: unknown }).node, expected, `names node ${expected}: ${line}`);
    }
  }
});

t.test('wrong cluster id: rejected and logged', async (t) => {
  const cap = capturingLogger();
  const b = await startNode(t, 2, new Map(), { logger: cap.logger });
  const stranger = await startNode(t, 1, peersOf([2, b.address]), { clusterId: 'other-cluster' });
  stranger.transport.send(message(1, 2));
  await until(() => b.transport.stats().handshakesRejected >= 1, 3000, 'rejection');
  t.equal(b.received.length, 0);
  t.equal(cap.lines.find((l) => l['msg'] === 'peer handshake rejected')?.['closeCode'], CLOSE.wrongCluster);
});

t.test('a correct proof for the wrong node id is refused', async (t) => {
  const b = await startNode(t, 2);
  const ws = await rawSocket(b.address.port);
  const challenge = await nextFrame(ws);
  // The dialer means node 5, but reached node 2: answerChallenge itself refuses.
  t.throws(() => answerChallenge({ clusterId: 'test-cluster', nodeId: 1, secret: 'sesame' }, 5, challenge));
  const forged = makeChallenge({ clusterId: 'test-cluster', nodeId: 2, secret: 'sesame' });
  // Answering a challenge the acceptor never sent (its own nonce differs) is a bad proof.
  ws.send(answerChallenge({ clusterId: 'test-cluster', nodeId: 1, secret: 'sesame' }, 2, forged.frame).frame);
  t.equal(await closed(ws), CLOSE.badProof);
});

t.test('a silent connection is closed at the handshake deadline', async (t) => {
  const b = await startNode(t, 2, new Map(), { limits: { ...fastLimits, handshakeMsMax: 100 } });
  const ws = await rawSocket(b.address.port);
  t.equal(await closed(ws), CLOSE.handshakeTimeout);
  t.equal(b.transport.stats().handshakesRejected, 1);
});

t.test('bounded queue: messages to a down peer drop past the bound, and the count is observable', async (t) => {
  const b = await startNode(t, 2);
  const port = b.address.port;
  await b.transport.close(); // the peer is down
  const a = await startNode(t, 1, peersOf([2, { host: '127.0.0.1', port }]), { limits: { ...fastLimits, sendQueueMessagesMax: 5 } });
  for (let i = 1; i <= 12; i++) a.transport.send(message(1, 2, { index: i }));
  const s = a.transport.stats().peers.get(2)!;
  t.equal(s.queueDrops, 7);
  t.equal(s.queueLength, 5);
  t.equal(s.messagesSent, 0);
  // The peer comes back on its port: the queued (oldest) messages are delivered, in order.
  const b2 = await startNode(t, 2, new Map(), { listen: { host: '127.0.0.1', port } });
  await until(() => b2.received.length === 5, 3000, 'queued messages');
  t.strictSame(
    b2.received.map((m) => m.index),
    [1, 2, 3, 4, 5],
  );
});

t.test('reconnects after the peer restarts', async (t) => {
  const b = await startNode(t, 2);
  const port = b.address.port;
  const a = await startNode(t, 1, peersOf([2, b.address]));
  a.transport.send(message(1, 2, { index: 1 }));
  await until(() => b.received.length === 1, 3000, 'first delivery');
  await b.transport.close();
  await until(() => !a.transport.stats().peers.get(2)!.connected, 3000, 'link down');
  const b2 = await startNode(t, 2, new Map(), { listen: { host: '127.0.0.1', port } });
  await until(() => a.transport.stats().peers.get(2)!.connected, 3000, 'link up again');
  a.transport.send(message(1, 2, { index: 2 }));
  await until(() => b2.received.length === 1, 3000, 'delivery after restart');
  t.equal(b2.received[0]!.index, 2);
  t.equal(a.transport.stats().peers.get(2)!.connects, 2);
});

t.test('heartbeats close a connection whose peer stopped answering pings', async (t) => {
  // A fake acceptor that completes the handshake but never answers pings (autoPong off).
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false });
  await new Promise<void>((r) => wss.once('listening', r));
  t.teardown(() => new Promise<void>((r) => (wss.clients.forEach((c) => c.terminate()), wss.close(() => r()))));
  let connections = 0;
  wss.on('connection', async (ws) => {
    connections++;
    const { acceptHandshake } = await import('../../src/transport/handshake.js');
    await acceptHandshake(ws, { clusterId: 'test-cluster', nodeId: 2, secret: 'sesame' }, 1000).catch(() => undefined);
  });
  const port = (wss.address() as { port: number }).port;
  const a = await startNode(t, 1, peersOf([2, { host: '127.0.0.1', port }]), { limits: { ...fastLimits, pingIntervalMs: 50 } });
  await until(() => a.transport.stats().peers.get(2)!.connects >= 1, 3000, 'first link');
  await until(() => a.transport.stats().peers.get(2)!.connects >= 2, 3000, 'dead link closed and redialed');
  t.ok(connections >= 2, 'the dead link was replaced by a new connection');
});

/** A fake peer that completes the handshake and never answers a ping; `reading` decides how it reads. */
async function silentPeer(
  t: Parameters<Parameters<typeof t.test>[1]>[0],
  reading: (socket: Socket) => void,
): Promise<{ port: number; received: { bytes: number } }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false, maxPayload: 64 * 1024 * 1024 });
  await new Promise<void>((r) => wss.once('listening', r));
  t.teardown(() => new Promise<void>((r) => (wss.clients.forEach((c) => c.terminate()), wss.close(() => r()))));
  const received = { bytes: 0 };
  wss.on('connection', async (ws, req) => {
    reading(req.socket);
    const { acceptHandshake } = await import('../../src/transport/handshake.js');
    await acceptHandshake(ws, { clusterId: 'test-cluster', nodeId: 2, secret: 'sesame' }, 1000).catch(() => undefined);
    ws.on('message', (data: Buffer) => (received.bytes += data.length));
  });
  return { port: (wss.address() as { port: number }).port, received };
}

t.test('a peer that stopped reading is found dead though small messages keep flowing to it', async (t) => {
  const peer = await silentPeer(t, (socket) => setTimeout(() => socket.pause(), 200));
  const a = await startNode(t, 1, peersOf([2, { host: '127.0.0.1', port: peer.port }]), { limits: { ...fastLimits, pingIntervalMs: 50 } });
  await until(() => a.transport.stats().peers.get(2)!.connected, 3000, 'first link');
  let sending = true;
  t.teardown(() => (sending = false));
  void (async () => {
    for (let i = 0; sending && i < 500; i++) {
      a.transport.send(message(1, 2, { index: i, context: new Uint8Array(100) }));
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  await until(() => a.transport.stats().peers.get(2)!.connects >= 2, 3000, 'closed and redialed while small messages still flowed');
  sending = false;
  t.pass('the kernel taking our small writes is no sign of life');
});

t.test('a message above messageBytesMax is never sent, and a frame above frameBytesMax received closes the connection', async (t) => {
  const b = await startNode(t, 2, new Map(), { limits: { ...fastLimits, frameBytesMax: 1024 } });
  const a = await startNode(t, 1, peersOf([2, b.address]), { limits: { ...fastLimits, frameBytesMax: 1024, messageBytesMax: 1536 } });
  a.transport.send(message(1, 2, { entries: [{ term: 1, index: 1, type: 'normal', data: new Uint8Array(2000) }] }));
  t.equal(a.transport.stats().messagesOversize, 1);
  // A sender with a larger limit: the receiver's maxPayload refuses it.
  const big = await startNode(t, 3, peersOf([2, b.address]));
  big.transport.send(message(3, 2, { entries: [{ term: 1, index: 1, type: 'normal', data: new Uint8Array(2000) }] }));
  await until(() => b.transport.stats().framesRejected >= 1, 3000, 'oversized frame refused');
  t.equal(b.received.length, 0);
  // Sent on the dying link, a message may be lost (Raft would retransmit): keep sending.
  for (let i = 0; i < 100 && b.received.length === 0; i++) {
    big.transport.send(message(3, 2, { index: 7 }));
    await new Promise((r) => setTimeout(r, 30));
  }
  t.equal(b.received[0]!.index, 7);
});

t.test('a snapshot larger than a frame arrives whole, in chunks', async (t) => {
  const limits = { ...fastLimits, frameBytesMax: 1024 };
  const b = await startNode(t, 2, new Map(), { limits });
  const a = await startNode(t, 1, peersOf([2, b.address]), { limits });
  const data = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) % 251);
  const snapshot = { meta: { index: 40, term: 3, conf: { voters: [1, 2, 3], learners: [], votersOutgoing: [] } }, data };
  a.transport.send(message(1, 2, { type: 'snapshot', snapshot }));
  a.transport.send(message(1, 2, { index: 41 }));
  await until(() => b.received.length === 2, 3000, 'the snapshot and the message after it');
  t.strictSame([...b.received[0]!.snapshot!.data], [...data], 'every byte, in order');
  t.equal(b.received[0]!.snapshot!.meta.index, 40);
  t.equal(b.received[1]!.index, 41, 'the next message follows');
  t.equal(a.transport.stats().messagesChunked, 1);
  t.ok(a.transport.stats().peers.get(2)!.messagesSent >= 11, 'as 10+ frames of at most 1 KiB');
  t.equal(b.transport.stats().framesRejected, 0);
});

t.test('a snapshot of 64 KiB or more goes as fragments of views, whole or in chunks, and arrives byte for byte', async (t) => {
  for (const frameBytesMax of [16 * 1024 * 1024, 40_000]) {
    const limits = { ...fastLimits, frameBytesMax };
    const b = await startNode(t, 2, new Map(), { limits });
    const a = await startNode(t, 1, peersOf([2, b.address]), { limits });
    const data = Uint8Array.from({ length: 150_000 }, (_, i) => (i * 13) % 251);
    const snapshot = { meta: { index: 7, term: 2, conf: { voters: [1, 2], learners: [], votersOutgoing: [] } }, data };
    a.transport.send(message(1, 2, { type: 'snapshot', snapshot }));
    a.transport.send(message(1, 2, { index: 8 }));
    await until(() => b.received.length === 2, 3000, `the snapshot and the message after it (frames of ${frameBytesMax})`);
    t.ok(Buffer.from(b.received[0]!.snapshot!.data).equals(Buffer.from(data)), `every byte, frames of ${frameBytesMax}`);
    t.equal(b.received[1]!.index, 8, 'the next message follows');
    t.equal(a.transport.stats().messagesChunked, frameBytesMax < 150_000 ? 1 : 0);
    t.equal(b.transport.stats().framesRejected, 0);
  }
});

t.test('chunks: a message left unfinished is discarded, one announcing too much closes the connection', async (t) => {
  const limits = { ...fastLimits, frameBytesMax: 1024, messageBytesMax: 4096 };
  const b = await startNode(t, 2, new Map(), { limits });
  const a = await startNode(t, 1, peersOf([2, b.address]), { limits });
  a.transport.send(message(1, 2, { index: 1 }));
  await until(() => b.received.length === 1, 3000, 'first');
  const { encodeMessage } = await import('../../src/transport/codec.js');
  const { splitIntoChunks } = await import('../../src/transport/chunking.js');
  const link = (a.transport as unknown as { links: Map<number, { send(f: Uint8Array): boolean }> }).links.get(2)!;
  const chunks = splitIntoChunks(
    encodeMessage(message(1, 2, { entries: [{ term: 1, index: 2, type: 'normal', data: new Uint8Array(3000) }] })),
    1024,
  );
  t.ok(chunks.length >= 3);
  // The first chunk, then a whole message (the rest never comes), then a stray later chunk.
  link.send(chunks[0]!);
  link.send(encodeMessage(message(1, 2, { index: 3 })));
  link.send(chunks[2]!);
  link.send(encodeMessage(message(1, 2, { index: 4 })));
  await until(() => b.received.length === 3, 3000, 'the whole messages');
  t.same(
    b.received.map((m) => m.index),
    [1, 3, 4],
    'the unfinished message is not delivered; the connection stays up',
  );
  t.equal(b.transport.stats().chunkedMessagesDiscarded, 2);
  t.equal(b.transport.stats().framesRejected, 0);
  // A chunk announcing more than messageBytesMax is a bad frame.
  const tooBig = splitIntoChunks(new Uint8Array(5000), 1024)[0]!;
  link.send(tooBig);
  await until(() => b.transport.stats().framesRejected === 1, 3000, 'oversized chunked message refused');
});

t.test('a message claiming another sender closes the connection', async (t) => {
  const b = await startNode(t, 2);
  const a = await startNode(t, 1, peersOf([2, b.address]));
  a.transport.send(message(1, 2, { index: 1 }));
  await until(() => b.received.length === 1, 3000, 'first');
  // Reach into the link to send a frame from "node 9" on node 1's authenticated connection.
  const { encodeMessage } = await import('../../src/transport/codec.js');
  const link = (a.transport as unknown as { links: Map<number, { send(f: Uint8Array): boolean }> }).links.get(2)!;
  link.send(encodeMessage(message(9, 2)));
  await until(() => b.transport.stats().framesRejected === 1, 3000, 'spoofed sender refused');
  t.equal(b.received.length, 1);
});

t.test('fast-check: garbage handshakes, frames and bytes on the peer port leave it serving', async (t) => {
  const b = await startNode(t, 2);
  const port = b.address.port;
  const seed = fcSeed();
  t.comment(`fast-check seed ${seed} (replay with FC_SEED=${seed})`);
  const { Packr } = await import('msgpackr');
  const packr = new Packr({ useRecords: false });
  const { answerChallenge } = await import('../../src/transport/handshake.js');
  const anyValue = fc.oneof(fc.string(), fc.integer(), fc.uint8Array({ maxLength: 40 }), fc.constant(null), fc.boolean());
  // Handshake-shaped frames with random fields, and random bytes.
  const fakeAuth = fc
    .tuple(
      fc.constantFrom('kvapp-peer', 'x'),
      fc.constantFrom(1, 2),
      fc.constantFrom('auth', 'challenge', 'welcome'),
      fc.array(anyValue, { maxLength: 6 }),
    )
    .map(([m, v, k, rest]) => packr.pack([m, v, k, ...rest]));
  const frame = fc.oneof(
    fakeAuth,
    fc.uint8Array({ maxLength: 200 }),
    fc.string().map((s) => Buffer.from(s)),
  );
  const attack = fc.oneof(
    fc.record({ tcp: fc.uint8Array({ minLength: 1, maxLength: 300 }) }),
    fc.record({ preHandshake: fc.array(frame, { minLength: 1, maxLength: 3 }), text: fc.boolean() }),
    fc.record({ postHandshake: fc.array(frame, { minLength: 1, maxLength: 3 }) }),
  );
  let error: unknown = null;
  try {
    await fc.assert(
      fc.asyncProperty(attack, async (a) => {
        if ('tcp' in a) return rawTcp(port, a.tcp);
        const ws = await rawSocket(port);
        if ('preHandshake' in a) {
          for (const f of a.preHandshake) if (ws.readyState === ws.OPEN) ws.send(a.text ? f.toString('latin1') : f);
        } else {
          // A member that knows the secret, then misbehaves: only its connection may suffer.
          const challenge = await nextFrame(ws);
          ws.send(answerChallenge({ clusterId: 'test-cluster', nodeId: 3, secret: 'sesame' }, 2, challenge).frame);
          await nextFrame(ws);
          for (const f of a.postHandshake) if (ws.readyState === ws.OPEN) ws.send(f);
        }
        await new Promise((r) => setTimeout(r, 2));
        ws.terminate();
      }),
      { seed, numRuns: 60 },
    );
  } catch (e) {
    error = e;
  }
  t.equal(error, null, 'no run failed');
  const a = await startNode(t, 1, peersOf([2, b.address]));
  a.transport.send(message(1, 2, { index: 42 }));
  await until(() => b.received.some((m) => m.from === 1 && m.index === 42), 3000, 'a valid peer after the garbage');
  t.ok(
    b.received.every((m) => m.from === 1 || m.from === 3),
    'only authenticated senders were ever delivered',
  );
  t.ok(b.transport.stats().handshakesRejected + b.transport.stats().framesRejected > 0, 'garbage was counted');
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

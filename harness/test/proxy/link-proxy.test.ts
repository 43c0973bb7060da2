import t from 'tap';
import net from 'node:net';
import { LinkProxy } from '../../src/proxy/link-proxy.js';
import { connectClient, dialUntilClosed, startServer, waitFor } from '../support/net.js';

type Teardown = { teardown(fn: () => Promise<void> | void): void };

interface SetupOptions {
  echo?: boolean;
  read?: boolean;
  bufferedBytesMax?: number;
  now?: () => number;
  random?: () => number;
}

/** A proxy clock that moves only when the test moves it, and counts how often the proxy read it. */
function steppedClock(startMs: number) {
  const clock = {
    ms: startMs,
    reads: 0,
    now: (): number => {
      clock.reads += 1;
      return clock.ms;
    },
  };
  return clock;
}

async function setup(t: Teardown, opts: SetupOptions = {}) {
  const server = await startServer({ echo: opts.echo ?? true, ...(opts.read === undefined ? {} : { read: opts.read }) });
  const proxy = await LinkProxy.start({
    name: 'a->b',
    targetHost: '127.0.0.1',
    targetPort: server.port,
    ...(opts.bufferedBytesMax === undefined ? {} : { bufferedBytesMax: opts.bufferedBytesMax }),
    ...(opts.now === undefined ? {} : { now: opts.now }),
    ...(opts.random === undefined ? {} : { random: opts.random }),
  });
  t.teardown(async () => {
    await proxy.close();
    await server.close();
  });
  return { server, proxy };
}

t.test('pass forwards both ways and counts bytes', async (t) => {
  const { proxy } = await setup(t);
  t.match(proxy.address, /^127\.0\.0\.1:\d+$/);
  const c = await connectClient(proxy.port);
  c.socket.write('hello');
  await waitFor('echo', () => c.received().toString() === 'hello');
  t.equal(proxy.counters.bytesForwardedToTarget, 5);
  t.equal(proxy.counters.bytesForwardedFromTarget, 5);
  t.equal(proxy.counters.connectionsAccepted, 1);
  t.equal(proxy.counters.connectionsOpen, 1);
  c.socket.end();
  // The proxy and the client see the close in either order; wait for both.
  await waitFor('client sees the close', () => c.closed());
  await waitFor('proxy forgot the connection', () => proxy.openConnections === 0);
  t.equal(proxy.counters.connectionsOpen, 0);
});

t.test('delay holds a chunk until the proxy clock reaches its due time, not a moment earlier', async (t) => {
  const clock = steppedClock(1000);
  // random 0 puts the jitter at its most negative: 60 - 40 = 20 ms, the shortest hold.
  const { proxy, server } = await setup(t, { echo: false, now: clock.now, random: () => 0 });
  proxy.setMode({ kind: 'delay', ms: 60, jitterMs: 40 });
  const c = await connectClient(proxy.port);
  c.socket.write('first;');
  await waitFor('held', () => proxy.counters.bytesBuffered === 6);
  clock.ms = 1019;
  // The proxy re-reads its clock while it holds a chunk; two more readings after the step mean
  // at least one full look at 1019 ms, and that look must have kept the chunk.
  const readsAtStep = clock.reads;
  await waitFor('the proxy looked at its clock after the step', () => clock.reads >= readsAtStep + 2 || proxy.counters.bytesBuffered === 0);
  t.equal(proxy.counters.bytesBuffered, 6, 'still held 1 ms before its due time');
  t.equal(proxy.counters.bytesForwardedToTarget, 0, 'nothing forwarded yet');
  clock.ms = 1020;
  await waitFor('released at its due time', () => server.received().toString() === 'first;');
  t.equal(proxy.counters.bytesBuffered, 0);
  c.socket.destroy();
});

t.test('delay keeps order under jitter: later chunks never overtake earlier ones', async (t) => {
  const clock = steppedClock(0);
  // Jitter from +40 down to -40 while the clock moves 1 ms per chunk: each chunk on its own would
  // be due before the one ahead of it.
  let draws = 0;
  const { proxy, server } = await setup(t, { echo: false, now: clock.now, random: () => Math.max(0, 1 - draws++ / 39) });
  proxy.setMode({ kind: 'delay', ms: 60, jitterMs: 40 });
  const c = await connectClient(proxy.port);
  let expected = '';
  for (let i = 0; i < 40; i++) {
    const piece = `m${i};`;
    expected += piece;
    c.socket.write(piece);
    // One chunk per piece: wait until the proxy holds it before the next one.
    await waitFor(`piece ${i} held`, () => proxy.counters.bytesBuffered === expected.length);
    clock.ms += 1;
  }
  for (let step = 0; step < 120 && server.received().length < expected.length; step++) {
    clock.ms += 1;
    const reads = clock.reads;
    await waitFor('the proxy looked at its clock', () => clock.reads >= reads + 2 || proxy.counters.bytesBuffered === 0);
    t.ok(expected.startsWith(server.received().toString()), `at ${clock.ms} ms what arrived is a prefix of what was sent`);
  }
  await waitFor('all chunks', () => server.received().length === expected.length);
  t.equal(server.received().toString(), expected, 'bytes arrive in the order they were sent');
  c.socket.destroy();
});

t.test('changing delay to pass keeps queued bytes ahead of new ones', async (t) => {
  const { proxy, server } = await setup(t, { echo: false });
  proxy.setMode({ kind: 'delay', ms: 150, jitterMs: 0 });
  const c = await connectClient(proxy.port);
  c.socket.write('old;');
  await waitFor('held', () => proxy.counters.bytesBuffered === 4);
  proxy.setMode({ kind: 'pass' });
  c.socket.write('new;');
  await waitFor('both', () => server.received().length === 8);
  t.equal(server.received().toString(), 'old;new;');
  c.socket.destroy();
});

t.test('blackhole holds bytes without closing; heal delivers them', async (t) => {
  const { proxy, server } = await setup(t, { echo: true });
  const c = await connectClient(proxy.port);
  c.socket.write('before;');
  await waitFor('echo before', () => c.received().toString() === 'before;');
  proxy.setMode({ kind: 'blackhole' });
  c.socket.write('during;');
  // Holding the bytes is the proxy's refusal to forward them: observed, not waited for.
  await waitFor('held', () => proxy.counters.bytesBuffered === 7);
  t.equal(proxy.counters.bytesForwardedToTarget, 7, "only 'before;' was forwarded");
  t.equal(server.received().toString(), 'before;', 'nothing more reached the target');
  t.notOk(c.closed(), 'the connection stays open');
  proxy.heal();
  await waitFor('echo after heal', () => c.received().toString() === 'before;during;');
  t.equal(proxy.counters.bytesDropped, 0);
  t.equal(proxy.counters.bytesBuffered, 0);
  c.socket.destroy();
});

t.test('blackhole is bounded: past the limit bytes drop and heal resets the connection', async (t) => {
  const { proxy, server } = await setup(t, { echo: false, bufferedBytesMax: 1000 });
  const c = await connectClient(proxy.port);
  proxy.setMode({ kind: 'blackhole' });
  c.socket.write(Buffer.alloc(800, 1));
  await waitFor('first held', () => proxy.counters.bytesBuffered === 800);
  c.socket.write(Buffer.alloc(800, 2));
  await waitFor('second dropped', () => proxy.counters.bytesDropped === 800);
  t.equal(proxy.counters.bytesBuffered, 800, 'held bytes stay within the bound');
  proxy.heal();
  await waitFor('client sees the reset', () => c.closed());
  t.equal(proxy.counters.connectionsReset, 1);
  t.equal(server.received().length, 0, 'a stream with a hole is never delivered');
  t.equal(proxy.counters.bytesBuffered, 0);
});

t.test('reset destroys open connections and refuses new ones until healed', async (t) => {
  const { proxy, server } = await setup(t, { echo: true });
  const c = await connectClient(proxy.port);
  c.socket.write('x');
  await waitFor('echo', () => c.received().length === 1);
  proxy.setMode({ kind: 'reset' });
  await waitFor('existing closed', () => c.closed());
  t.match(c.error(), { code: 'ECONNRESET' }, 'the dialer sees a reset');
  await waitFor('target side closed', () => server.sockets.size === 0);
  await dialUntilClosed(proxy.port);
  t.equal(proxy.counters.connectionsRefused, 1);
  proxy.heal();
  const ok = await connectClient(proxy.port);
  ok.socket.write('y');
  await waitFor('echo after heal', () => ok.received().toString() === 'y');
  ok.socket.destroy();
});

t.test('a dead target looks like a refused connection', async (t) => {
  const server = await startServer();
  const port = server.port;
  await server.close();
  const proxy = await LinkProxy.start({ targetHost: '127.0.0.1', targetPort: port });
  t.teardown(() => proxy.close());
  await dialUntilClosed(proxy.port);
  await waitFor('refusal counted', () => proxy.counters.connectionsRefused === 1);
  t.equal(proxy.openConnections, 0);
});

t.test('pass back-pressures a sender whose receiver does not read: buffers stay bounded', async (t) => {
  const bound = 64 * 1024;
  const { proxy } = await setup(t, { read: false, bufferedBytesMax: bound });
  const c = await connectClient(proxy.port);
  const chunk = Buffer.alloc(64 * 1024, 7);
  // Write far more than kernel buffers plus the bound can hold.
  for (let i = 0; i < 200; i++) c.socket.write(chunk);
  // The refusal itself: a full queue that the target does not drain keeps the sender paused, and
  // a paused sender is read no further.
  await waitFor('the sender is paused with a full queue', () => proxy.counters.sendersPaused >= 1 && proxy.counters.bytesBuffered >= bound);
  const held = proxy.counters.bytesBuffered;
  t.ok(held <= bound + chunk.length, `held at most the bound plus one read (${held} bytes)`);
  t.ok(proxy.counters.bytesForwardedToTarget + held < 200 * chunk.length, 'the proxy took less than was written');
  t.ok(c.socket.writableLength > 0, 'the rest waits in the sender');
  t.equal(proxy.counters.bytesDropped, 0, 'pass never drops');
  c.socket.destroy();
});

t.test('FIN travels through and half-close works', async (t) => {
  const { proxy, server } = await setup(t, { echo: false });
  const c = await connectClient(proxy.port);
  c.socket.end('bye');
  await waitFor('data and FIN at target', () => server.received().toString() === 'bye' && server.sockets.size === 0);
  await waitFor('proxy forgot the connection', () => proxy.openConnections === 0);
  t.pass('closed cleanly');
});

t.test('close() destroys every socket and stops listening', async (t) => {
  const server = await startServer({ echo: true });
  t.teardown(() => server.close());
  const proxy = await LinkProxy.start({ targetHost: '127.0.0.1', targetPort: server.port });
  const a = await connectClient(proxy.port);
  const b = await connectClient(proxy.port);
  a.socket.write('a');
  await waitFor('echo', () => a.received().length === 1);
  proxy.setMode({ kind: 'blackhole' });
  b.socket.write('held');
  await proxy.close();
  await waitFor('clients closed', () => a.closed() && b.closed());
  await waitFor('target sockets closed', () => server.sockets.size === 0);
  t.equal(proxy.counters.bytesBuffered, 0);
  const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: proxy.port });
    s.on('error', resolve);
    s.on('connect', () => resolve(Object.assign(new Error('connected'), { code: 'CONNECTED' })));
  });
  t.equal(err.code, 'ECONNREFUSED');
  await proxy.close();
  t.throws(() => proxy.setMode({ kind: 'pass' }), 'a closed link cannot change mode');
});

t.test('invalid delays are programmer errors', async (t) => {
  const { proxy } = await setup(t);
  t.throws(() => proxy.setMode({ kind: 'delay', ms: -1, jitterMs: 0 }));
  t.throws(() => proxy.setMode({ kind: 'delay', ms: 1, jitterMs: Number.NaN }));
  t.equal(proxy.mode.kind, 'pass');
});

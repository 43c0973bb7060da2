import t from 'tap';
import { KvClient, type KvClientOptions } from '../src/client.js';
import { KvConnectionPool } from '../src/connection-pool.js';
import type { ClientRequest } from '../src/protocol.js';
import { deadEndpoint, fakeNode, leaderScript, type Action, type FakeNode } from './support/fake-node.js';

const fast: Partial<KvClientOptions> = { opDeadlineMs: 1500, attemptMsMax: 300, backoffMsMin: 5, backoffMsMax: 20 };

async function setup(t: Tap, scripts: Array<(req: ClientRequest, n: number) => Action>, options: Partial<KvClientOptions> = {}) {
  const nodes: FakeNode[] = [];
  for (const s of scripts) nodes.push(await fakeNode(s));
  const client = new KvClient({ ...fast, endpoints: nodes.map((n) => n.endpoint), ...options });
  t.teardown(async () => {
    client.close();
    await Promise.all(nodes.map((n) => n.close()));
  });
  return { client, nodes };
}
type Tap = typeof t;

/** Polls `cond` every 5 ms, at most `polls` times: only turns a hang into a failure. */
async function waitUntil(what: string, cond: () => boolean, polls = 6000): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i >= polls) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const writes = (n: FakeNode) => n.requests.filter((r) => r.op !== 'register' && r.op !== 'status' && r.op !== 'get');
const notLeader = (leader: string | null): Action => ({ reply: { ok: false, error: { code: 'not_leader', message: 'follower', leader } } });

t.test('register once, then put/get/cas/delete with seq 1, 2, 3...', async (t) => {
  const { client, nodes } = await setup(t, [leaderScript()]);
  t.strictSame(await client.put('k', 'a'), { status: 'ok', prev: null });
  t.strictSame(await client.get('k'), { status: 'ok', value: 'a' });
  t.strictSame(await client.cas('k', 'a', 'b'), { status: 'ok', prev: 'a' });
  t.strictSame(await client.delete('k'), { status: 'ok', prev: 'b' });
  const reqs = nodes[0]!.requests;
  t.equal(reqs.filter((r) => r.op === 'register').length, 1);
  t.strictSame(
    writes(nodes[0]!).map((r) => ('session' in r ? r.session : null)),
    [1, 2, 3].map((seq) => ({ clientId: 'c1', seq })),
  );
  const get = reqs.find((r) => r.op === 'get')!;
  t.notOk('session' in get, 'reads carry no session');
  t.equal((get as { read?: string }).read, undefined, 'linearizable is the default: the field is left out');
});

t.test('serializable read is asked for explicitly', async (t) => {
  const { client, nodes } = await setup(t, [leaderScript()]);
  t.equal((await client.get('k', { read: 'serializable' })).status, 'ok');
  t.equal((nodes[0]!.requests[0] as { read?: string }).read, 'serializable');
});

t.test('not_leader with a leader address: retried there', async (t) => {
  const leader = await fakeNode(leaderScript());
  t.teardown(() => leader.close());
  const { client, nodes } = await setup(t, [() => notLeader(leader.endpoint)]);
  t.strictSame(await client.put('k', 'v'), { status: 'ok', prev: null });
  t.equal(nodes[0]!.requests.length, 1, 'the follower saw only the register, then the client followed');
  t.equal(writes(leader).length, 1);
});

t.test('not_leader without an address: the next endpoint is tried', async (t) => {
  const { client, nodes } = await setup(t, [() => notLeader(null), leaderScript()]);
  t.strictSame(await client.put('k', 'v'), { status: 'ok', prev: null });
  t.equal(writes(nodes[1]!).length, 1);
});

t.test('not_leader everywhere until the deadline: fail, since nothing was ever proposed', async (t) => {
  const { client } = await setup(t, [() => notLeader(null), () => notLeader(null)]);
  const o = await client.get('k');
  t.equal(o.status, 'fail');
  t.equal(o.status === 'fail' && o.error.code, 'not_leader');
});

t.test('no node reachable: fail (nothing left the client)', async (t) => {
  const client = new KvClient({ ...fast, opDeadlineMs: 400, endpoints: [await deadEndpoint(), await deadEndpoint()] });
  t.teardown(() => client.close());
  const o = await client.put('k', 'v');
  t.equal(o.status, 'fail');
  t.match(o.status === 'fail' && o.error.message, /could not open a session/);
});

t.test('connection lost after sending a write: retried elsewhere with the SAME seq', async (t) => {
  const good = leaderScript();
  const { client, nodes } = await setup(t, [(req) => (req.op === 'put' ? { drop: true } : good(req)), good]);
  t.strictSame(await client.put('k', 'v'), { status: 'ok', prev: null });
  const sent = [...writes(nodes[0]!), ...writes(nodes[1]!)];
  t.equal(sent.length, 2, 'one lost attempt, one retry');
  t.strictSame(
    sent.map((r) => ('session' in r ? r.session : null)),
    [
      { clientId: 'c1', seq: 1 },
      { clientId: 'c1', seq: 1 },
    ],
  );
  t.strictSame(await client.put('k', 'w'), { status: 'ok', prev: 'v' });
  t.equal(client.currentSession?.seq, 2, 'the next operation moves on to seq 2');
});

t.test('connection lost after sending, and never an answer: indeterminate', async (t) => {
  const good = leaderScript();
  const { client } = await setup(t, [(req) => (req.op === 'put' ? { drop: true } : good(req))], { opDeadlineMs: 500 });
  const o = await client.put('k', 'v');
  t.equal(o.status, 'indeterminate');
});

t.test("an attempt waits no longer than the operation's time left: a silent node ends it at the deadline", async (t) => {
  const good = leaderScript();
  // attemptMsMax of an hour: a client that let one attempt outlive the deadline would hang here
  // until tap's timeout, which is the only time bound of this test.
  const { client, nodes } = await setup(t, [(req) => (req.op === 'put' ? { silent: true } : good(req))], {
    opDeadlineMs: 400,
    attemptMsMax: 3_600_000,
  });
  const o = await client.put('k', 'v');
  t.equal(o.status, 'indeterminate');
  t.ok(writes(nodes[0]!).length >= 1, 'the write was sent');
});

t.test("a silent node: attempts go on until the client's clock passes the deadline, then indeterminate", async (t) => {
  const good = leaderScript();
  // The client's clock runs with real time plus a jump the test makes: the operation cannot end
  // by its deadline before the jump, whatever the machine's load, and must end after it.
  let jumpMs = 0;
  const now = () => performance.now() + jumpMs;
  const { client, nodes } = await setup(t, [(req) => (req.op === 'put' ? { silent: true } : good(req))], {
    opDeadlineMs: 3_600_000,
    attemptMsMax: 20,
    now,
  });
  let settled = false;
  const outcome = client.put('k', 'v').finally(() => (settled = true));
  await waitUntil('three unanswered attempts', () => writes(nodes[0]!).length >= 3);
  t.notOk(settled, 'still trying: its clock is before the deadline');
  jumpMs = 3_600_000;
  t.equal((await outcome).status, 'indeterminate', 'ended once its clock passed the deadline');
  const sent = writes(nodes[0]!).map((r) => ('session' in r ? r.session : null));
  t.ok(
    sent.every((s) => s?.seq === 1),
    'every attempt carried the same seq',
  );
});

t.test('a read that never gets an answer: indeterminate', async (t) => {
  const { client } = await setup(t, [() => ({ silent: true })]);
  t.equal((await client.get('k')).status, 'indeterminate');
});

t.test('cas_mismatch: fail with the current value, not retried', async (t) => {
  const store = new Map([['k', 'x']]);
  const { client, nodes } = await setup(t, [leaderScript(store)]);
  t.strictSame(await client.cas('k', 'a', 'b'), { status: 'fail', error: { code: 'cas_mismatch', message: 'no match', current: 'x' } });
  t.equal(writes(nodes[0]!).length, 1);
});

t.test('cas_mismatch after a lost attempt, with a session: still a definite fail', async (t) => {
  const store = new Map([['k', 'x']]);
  const good = leaderScript(store);
  let dropped = false;
  const { client } = await setup(t, [
    (req) => {
      if (req.op === 'cas' && !dropped) {
        dropped = true;
        return { drop: true };
      }
      return good(req);
    },
  ]);
  const o = await client.cas('k', 'a', 'b');
  t.equal(o.status, 'fail');
});

t.test('timeout from the node (proposed, fate unknown): retried with the same seq, then ok', async (t) => {
  const good = leaderScript();
  let n = 0;
  const { client, nodes } = await setup(t, [
    (req) => (req.op === 'put' && n++ === 0 ? { reply: { ok: false, error: { code: 'timeout', message: 'commit wait' } } } : good(req)),
  ]);
  t.strictSame(await client.put('k', 'v'), { status: 'ok', prev: null });
  t.strictSame(
    writes(nodes[0]!).map((r) => ('session' in r ? r.session?.seq : 0)),
    [1, 1],
  );
});

t.test('overloaded then ok: retried, ok', async (t) => {
  const good = leaderScript();
  let n = 0;
  const { client } = await setup(t, [
    (req) => (req.op === 'get' && n++ < 2 ? { reply: { ok: false, error: { code: 'overloaded', message: 'busy' } } } : good(req)),
  ]);
  t.strictSame(await client.get('k'), { status: 'ok', value: null });
});

t.test('garbage reply after sending: the connection is dropped and the write retried with the same seq', async (t) => {
  const good = leaderScript();
  let n = 0;
  const { client, nodes } = await setup(t, [(req) => (req.op === 'put' && n++ === 0 ? { raw: '{"v":1,"id":' } : good(req))]);
  t.strictSame(await client.put('k', 'v'), { status: 'ok', prev: null });
  t.strictSame(
    writes(nodes[0]!).map((r) => ('session' in r ? r.session?.seq : 0)),
    [1, 1],
  );
});

t.test('only garbage replies: indeterminate', async (t) => {
  const good = leaderScript();
  const { client } = await setup(t, [(req) => (req.op === 'put' ? { raw: '{"v":1,"id":1,"ok":"yes"}' } : good(req))]);
  t.equal((await client.put('k', 'v')).status, 'indeterminate');
});

t.test('an ok without the fields the op needs counts as garbage, not as ok', async (t) => {
  const good = leaderScript();
  const { client } = await setup(t, [(req) => (req.op === 'put' ? { reply: { ok: true } } : good(req))]);
  t.equal((await client.put('k', 'v')).status, 'indeterminate');
});

t.test('session_expired on a first attempt: a new session is opened and the write goes through once', async (t) => {
  const good = leaderScript();
  let expired = false;
  const { client, nodes } = await setup(t, [
    (req) => {
      if (req.op === 'put' && !expired) {
        expired = true;
        return { reply: { ok: false, error: { code: 'session_expired', message: 'gone' } } };
      }
      return good(req);
    },
  ]);
  t.strictSame(await client.put('k', 'v'), { status: 'ok', prev: null });
  t.strictSame(
    writes(nodes[0]!).map((r) => ('session' in r ? r.session : null)),
    [
      { clientId: 'c1', seq: 1 },
      { clientId: 'c2', seq: 1 },
    ],
  );
});

t.test('session_expired after an attempt of unknown fate: indeterminate, and the next write opens a new session', async (t) => {
  const good = leaderScript();
  let n = 0;
  const { client } = await setup(t, [
    (req) => {
      if (req.op === 'put' && n === 0) return (n++, { drop: true });
      if (req.op === 'put' && n === 1) return (n++, { reply: { ok: false, error: { code: 'session_expired', message: 'gone' } } });
      return good(req);
    },
  ]);
  t.equal((await client.put('k', 'v')).status, 'indeterminate');
  t.equal(client.currentSession, null);
  t.equal((await client.put('k', 'w')).status, 'ok');
  t.equal(client.currentSession?.clientId, 'c2');
});

t.test('without sessions, a write lost after sending is not retried: indeterminate, sent once', async (t) => {
  const { client, nodes } = await setup(t, [() => ({ drop: true }), leaderScript()], { sessions: false });
  t.equal((await client.put('k', 'v')).status, 'indeterminate');
  t.equal(nodes[0]!.requests.length + nodes[1]!.requests.length, 1);
  t.notOk('session' in nodes[0]!.requests[0]!);
});

t.test('writes are serialized: one in flight per session', async (t) => {
  let inflight = 0;
  let peak = 0;
  const good = leaderScript();
  // A node that answers each write 20 ms later; peak counts overlapping writes.
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', r));
  t.teardown(() => new Promise<void>((r) => (wss.clients.forEach((c) => c.terminate()), wss.close(() => r()))));
  wss.on('connection', (ws) =>
    ws.on('message', (d) => {
      const req = JSON.parse(String(d)) as ClientRequest;
      if (req.op !== 'register') peak = Math.max(peak, ++inflight);
      setTimeout(() => {
        if (req.op !== 'register') inflight--;
        const a = good(req) as { reply: object };
        ws.send(JSON.stringify({ v: 1, id: req.id, ...a.reply }));
      }, 20);
    }),
  );
  const client = new KvClient({ ...fast, endpoints: [`127.0.0.1:${(wss.address() as { port: number }).port}`] });
  t.teardown(() => client.close());
  const outs = await Promise.all([client.put('a', '1'), client.put('b', '2'), client.cas('a', '1', '3')]);
  t.strictSame(
    outs.map((o) => o.status),
    ['ok', 'ok', 'ok'],
  );
  t.equal(peak, 1);
  t.equal(client.currentSession?.seq, 3);
});

t.test('statusAll asks every endpoint', async (t) => {
  const dead = await deadEndpoint();
  const node = await fakeNode(leaderScript());
  const client = new KvClient({ ...fast, endpoints: [node.endpoint, dead] });
  t.teardown(async () => (client.close(), await node.close()));
  const all = await client.statusAll();
  t.equal(all.length, 2);
  t.equal(all[0]!.ok && all[0]!.status.role, 'leader');
  t.equal(all[1]!.ok, false);
});

t.test('a refused connection: the next endpoint is tried within the same attempt', async (t) => {
  const node = await fakeNode(leaderScript());
  // No retries at all: only trying the next endpoint at once, in the same attempt, can succeed.
  const client = new KvClient({ ...fast, retriesMax: 0, endpoints: [await deadEndpoint(), await deadEndpoint(), node.endpoint] });
  t.teardown(async () => (client.close(), await node.close()));
  t.strictSame(await client.put('k', 'v'), { status: 'ok', prev: null });
  t.strictSame(await client.get('k'), { status: 'ok', value: 'v' });
});

t.test('every endpoint refused: by default retried until the deadline; giveUpWhenAllRefused ends at once', async (t) => {
  const dead = [await deadEndpoint(), await deadEndpoint()];
  const patient = new KvClient({ ...fast, opDeadlineMs: 300, endpoints: dead });
  t.teardown(() => patient.close());
  const o = await patient.get('k');
  // Retried until the deadline: the last attempt either met the refusals or was cut by the
  // deadline (on a loaded machine a dial can outlast the 300 ms); both are a definite give-up.
  t.match(o, { status: 'fail', error: { code: 'unavailable', message: /connection refused by every endpoint|closed by the client/ } });

  // retriesMax is large and the deadline far: only giving up at once ends this quickly.
  t.setTimeout(30_000);
  const quick = new KvClient({
    ...fast,
    opDeadlineMs: 120_000,
    retriesMax: 1000,
    backoffMsMin: 10_000,
    backoffMsMax: 10_000,
    endpoints: dead,
    giveUpWhenAllRefused: true,
  });
  t.teardown(() => quick.close());
  const q = await quick.put('k', 'v');
  t.match(q, { status: 'fail', error: { code: 'unavailable', message: new RegExp(`${dead[0]}, ${dead[1]}|${dead[1]}, ${dead[0]}`) } });
});

t.test('a request larger than a frame fails at once, unsent', async (t) => {
  const { client, nodes } = await setup(t, [leaderScript()]);
  const big = 'x'.repeat(1 << 20);
  t.match(await client.put('k', big), {
    status: 'fail',
    error: { code: 'bad_request', message: /more than the 1048576 a frame may carry; nothing was sent/ },
  });
  t.match(await client.get(big), { status: 'fail', error: { code: 'bad_request' } });
  t.equal(writes(nodes[0]!).length, 0, 'no write was sent');
  t.notOk(
    nodes[0]!.requests.some((r) => r.op === 'get'),
    'no read was sent',
  );
  t.strictSame(await client.put('k', 'x'.repeat(1000)), { status: 'ok', prev: null }, 'a value that fits still goes through');
});

t.test('clients sharing a pool use one connection per node; closing a client leaves the pool open', async (t) => {
  const node = await fakeNode(leaderScript());
  const pool = new KvConnectionPool();
  const clients = Array.from({ length: 5 }, () => new KvClient({ ...fast, endpoints: [node.endpoint], pool }));
  t.teardown(async () => {
    for (const c of clients) c.close();
    pool.close();
    await node.close();
  });
  const puts = await Promise.all(clients.map((c, i) => c.put(`k${i}`, `v${i}`)));
  t.same(
    puts.map((p) => p.status),
    ['ok', 'ok', 'ok', 'ok', 'ok'],
    'five clients, each with its own session, all wrote',
  );
  t.equal(new Set(clients.map((c) => c.currentSession?.clientId)).size, 5, 'five sessions');
  t.same(node.connections, { accepted: 1, open: 1 }, 'over one connection');
  clients[0]!.close();
  t.same(await clients[1]!.get('k0'), { status: 'ok', value: 'v0' }, 'another client goes on after one closed');
  t.equal(node.connections.accepted, 1, 'on the same connection');
  pool.close();
  await waitUntil('the pooled connection to close', () => node.connections.open === 0);
  t.pass('closing the pool closed its connection');
});

t.test('a client refuses tls beside a pool (the pool carries the TLS settings)', async (t) => {
  t.throws(() => new KvClient({ endpoints: ['127.0.0.1:1'], pool: new KvConnectionPool(), tls: {} }), /give tls to the pool/);
});

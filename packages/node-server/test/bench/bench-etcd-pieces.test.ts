// The parts of `npm run bench -- --vs etcd` that need no etcd: the JSON gateway driver's
// requests (checked against a small in-memory server that decodes them as etcd's gateway does),
// the leader lookup, the members' command lines, the split of the load, the flags.
import t, { type Test } from 'tap';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { findLeader, open, putRequest, rangeRequest, rangeValue } from '../../bench/drivers/etcd-http.mjs';
import { etcdMemberArgs } from '../../bench/etcd-cluster.mjs';
import { kvappNodeArgs } from '../../bench/kvapp-cluster.mjs';
import { splitInFlight } from '../../bench/load-fleet.mjs';
import { keyAt } from '../../bench/keyspace.mjs';
import { parseBenchArgs, UsageError } from '../../bench/options.mjs';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString();

t.test('gateway requests: base64 key and value; serializable only on serializable gets', async (t) => {
  t.same(putRequest('k1', 'v1'), { path: '/v3/kv/put', body: JSON.stringify({ key: b64('k1'), value: b64('v1') }) });
  t.same(JSON.parse(rangeRequest('k1', false).body), { key: b64('k1') }, 'a linearizable range is the default');
  t.same(JSON.parse(rangeRequest('k1', true).body), { key: b64('k1'), serializable: true });
  t.equal(rangeRequest('k1', true).path, '/v3/kv/range');
});

t.test('gateway answers: a value, an absent key, an empty value', async (t) => {
  t.equal(rangeValue({ kvs: [{ key: b64('k'), value: b64('hello') }] }), 'hello');
  t.equal(rangeValue({ header: {} }), null, 'the gateway omits kvs when nothing matched');
  t.equal(rangeValue({ kvs: [{ key: b64('k') }] }), '', 'and omits an empty value');
});

/** A stand-in for etcd's gateway: an in-memory map behind /v3/kv/put and /v3/kv/range, recording each request. */
async function fakeGateway(t: Test, memberId: string, leaderId: string) {
  const data = new Map<string, string>();
  const seen: { path: string; contentType: string | undefined; body: Record<string, unknown> }[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    const body = JSON.parse(text || '{}');
    seen.push({ path: req.url ?? '', contentType: req.headers['content-type'], body });
    const header = { member_id: memberId };
    if (req.method === 'POST' && req.url === '/v3/kv/put') {
      data.set(unb64(body.key), unb64(body.value));
      res.end(JSON.stringify({ header }));
    } else if (req.method === 'POST' && req.url === '/v3/kv/range') {
      const value = data.get(unb64(body.key));
      res.end(JSON.stringify(value === undefined ? { header } : { header, kvs: [{ key: body.key, value: b64(value) }], count: '1' }));
    } else if (req.method === 'POST' && req.url === '/v3/maintenance/status') {
      res.end(JSON.stringify({ header, leader: leaderId }));
    } else {
      res.statusCode = 404;
      res.end('{"error":"not found"}');
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, data, seen, server };
}

t.test('the gateway driver puts and gets over HTTP', async (t) => {
  const gateway = await fakeGateway(t, '7', '7');
  const conn = await open({ target: gateway.url, slots: 2 });
  t.teardown(() => conn.close());
  await conn.put(0, 'k0000000000000001', 'the value');
  t.equal(gateway.data.get('k0000000000000001'), 'the value', 'the server decoded the key and value');
  await conn.get(1, 'k0000000000000001', true);
  await conn.get(1, 'absent', false);
  t.same(
    gateway.seen.map((s) => [s.path, s.contentType, s.body.serializable ?? false]),
    [
      ['/v3/kv/put', 'application/json', false],
      ['/v3/kv/range', 'application/json', true],
      ['/v3/kv/range', 'application/json', false],
    ],
  );
});

t.test('the gateway driver fails a request the gateway refuses', async (t) => {
  const gateway = await fakeGateway(t, '7', '7');
  const conn = await open({ target: gateway.url, slots: 1 });
  t.teardown(() => conn.close());
  gateway.server.removeAllListeners('request');
  gateway.server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    res.statusCode = 503;
    res.end('{"error":"etcdserver: request timed out"}');
  });
  await t.rejects(conn.put(0, 'k', 'v'), /\/v3\/kv\/put: HTTP 503 .*request timed out/);
});

t.test('findLeader: the member whose status names itself as leader', async (t) => {
  const follower = await fakeGateway(t, '1', '2');
  const leader = await fakeGateway(t, '2', '2');
  t.equal(await findLeader([follower.url, leader.url]), leader.url);
  t.equal(await findLeader([follower.url]), null, 'none when no member is leader');
});

t.test('etcd members: three on 127.0.0.1 that name each other, each with its own data dir', async (t) => {
  const members = [1, 2, 3].map((i) => ({ name: `m${i}`, peerPort: 2000 + i, clientPort: 3000 + i }));
  const args = etcdMemberArgs(members[1], members, '/data');
  const flag = (name: string) => args[args.indexOf(name) + 1];
  t.equal(flag('--name'), 'm2');
  t.equal(flag('--data-dir'), '/data/m2.etcd');
  t.equal(flag('--listen-client-urls'), 'http://127.0.0.1:3002');
  t.equal(flag('--listen-peer-urls'), 'http://127.0.0.1:2002');
  t.equal(flag('--initial-cluster'), 'm1=http://127.0.0.1:2001,m2=http://127.0.0.1:2002,m3=http://127.0.0.1:2003');
  t.equal(flag('--initial-cluster-state'), 'new');
  t.notOk(
    args.some((a: string) => /unsafe-no-fsync/.test(a)),
    'durable: fsync stays on',
  );
});

t.test('kvapp nodes: each lists the other two as peers and all three client addresses', async (t) => {
  const nodes = [1, 2, 3].map((id) => ({ id, peerPort: 4000 + id, clientPort: 5000 + id }));
  const args = kvappNodeArgs(nodes[0], nodes, '/data');
  const flag = (name: string) => args[args.indexOf(name) + 1];
  t.equal(flag('--peers'), '2=127.0.0.1:4002,3=127.0.0.1:4003');
  t.equal(flag('--client-addresses'), '1=127.0.0.1:5001,2=127.0.0.1:5002,3=127.0.0.1:5003');
  t.equal(flag('--data-dir'), '/data/n1');
});

t.test('the load is split evenly over the load processes', async (t) => {
  t.same(splitInFlight(1, 2), [1, 0]);
  t.same(splitInFlight(64, 2), [32, 32]);
  t.same(splitInFlight(7, 3), [3, 2, 2]);
});

t.test('keys have exactly the asked size', async (t) => {
  t.equal(keyAt(42, 16), 'k000000000000042');
  t.equal(keyAt(9999, 16).length, 16);
  t.throws(() => keyAt(100, 3), /does not fit in 3 bytes/);
});

t.test('flags: the documented defaults, and one clear error per bad flag', async (t) => {
  t.match(parseBenchArgs([]), {
    vsEtcd: false,
    etcdClients: ['grpc', 'http'],
    workloads: ['put', 'get-lin', 'get-ser'],
    concurrency: [1, 16, 64, 256],
    runs: 3,
    keys: 10000,
    keyBytes: 16,
    valueBytes: 128,
    json: null,
  });
  t.match(parseBenchArgs(['--vs', 'etcd', '--etcd-clients', 'http']), { vsEtcd: true, etcdClients: ['http'] });
  t.equal(parseBenchArgs(['--help']), null);
  const refused: [string[], RegExp][] = [
    [['--vs', 'redis'], /--vs: only 'etcd'/],
    [['--workloads', 'put,scan'], /--workloads: unknown 'scan'/],
    [['--runs', '0'], /--runs wants an integer >= 1/],
    [['--duration', '0'], /--duration wants seconds > 0/],
    [['--warmup=-1'], /--warmup wants seconds >= 0/],
    [['--keys', '100000', '--key-bytes', '4'], /--key-bytes 4 cannot hold 100000 distinct keys/],
    [['--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [argv, message] of refused) t.throws(() => parseBenchArgs(argv), message, argv.join(' '));
  let caught: unknown = null;
  try {
    parseBenchArgs(['--runs', 'x']);
  } catch (error) {
    caught = error;
  }
  t.ok(caught instanceof UsageError, 'a UsageError, which the bench prints as one line');
});

import t from 'tap';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import WebSocket from 'ws';
import { KvClient } from '@kvapp/client';
import { CONFIG_DEFAULTS, type NodeConfig } from '../../src/config/node-config.js';
import { startNode, type NodeHandle } from '../../src/node/start-node.js';
import { NodeMetrics } from '../../src/ops/metrics.js';
import { freePort } from '../node/node-support.js';

/**
 * Every metric kvapp declares must move when the node works. Node 1 starts alone (no quorum, so
 * no election: its first scrape is the "before"), then node 2 joins; node 1 has the shortest
 * election timeout and becomes leader. Node 3 is configured but never started, so node 1's queue
 * to it overflows. A put/get workload runs through KvClient, plus one cheap trigger for each
 * metric that counts trouble. The metric names come from the registry, not from a list here.
 */

/** Metrics that cannot move in this run, each with the reason. Keep it short: prefer a trigger. */
const EXEMPT = new Map<string, string>([]);

/** Small transport bounds, so that a down peer's queue overflows and a 10 kB value is sent in chunks. */
const TRANSPORT_LIMITS = { frameBytesMax: 4096, sendQueueMessagesMax: 2, reconnectMsMin: 10, reconnectMsMax: 50 };
const BIG_VALUE = 'x'.repeat(10_000);

/** Prometheus text → sample ("name{labels}") → value. */
function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    found.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return found;
}

/** The metric a sample belongs to: its name, less a histogram's suffix. */
function metricOf(sample: string): string {
  return sample.split('{')[0]!.replace(/_(bucket|sum|count)$/, '');
}

/** Metrics with at least one sample whose value differs (a sample absent before counts as 0). */
function moved(before: Map<string, number>, after: Map<string, number>): Set<string> {
  const names = new Set<string>();
  for (const [sample, value] of after) if (value !== (before.get(sample) ?? 0)) names.add(metricOf(sample));
  return names;
}

async function scrape(node: NodeHandle): Promise<string> {
  const http = node.addresses.http!;
  return (await fetch(`http://${http.host}:${http.port}/metrics`)).text();
}

/** Sends one text frame to a WebSocket port and waits until the server answers or hangs up. */
async function garbage(port: number): Promise<void> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  ws.on('error', () => undefined);
  await once(ws, 'open');
  const answered = Promise.race([once(ws, 'message'), once(ws, 'close')]);
  ws.send('this is not a valid frame');
  await answered;
  ws.terminate();
}

t.test('every metric kvapp declares moves under a put/get workload', async (t) => {
  const declared = (await new NodeMetrics({ processMetrics: false }).registry.getMetricsAsJSON()).map((m) => m.name);
  t.ok(declared.length >= 10 && declared.every((name) => name.startsWith('kvapp_')), `kvapp's own metrics: ${declared.join(', ')}`);

  const root = await mkdtemp(join(tmpdir(), 'kvapp-metrics-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const ports = new Map<number, { peer: number; client: number }>();
  for (const id of [1, 2, 3]) ports.set(id, { peer: await freePort(), client: await freePort() });
  const config = (id: number, electionMs: number): NodeConfig => ({
    ...CONFIG_DEFAULTS,
    id,
    dataDir: join(root, `n${id}`),
    peerListen: { host: '127.0.0.1', port: ports.get(id)!.peer },
    clientListen: { host: '127.0.0.1', port: ports.get(id)!.client },
    httpListen: { host: '127.0.0.1', port: 0 },
    peers: new Map([...ports].filter(([peer]) => peer !== id).map(([peer, p]) => [peer, { host: '127.0.0.1', port: p.peer }])),
    clientAddresses: new Map([...ports].map(([peer, p]) => [peer, { host: '127.0.0.1', port: p.client }])),
    clusterSecret: 'metrics-test-secret',
    tickMs: 10,
    electionMs,
    heartbeatMs: 30,
    tls: null,
    unsafeLocalReads: false,
    unsafeLeaseReads: false,
    unsafeAckBeforeFsync: false,
    unsafeSkipDirFsync: false,
  });
  const silent = pino({ level: 'silent' });
  const start = (id: number, electionMs: number) =>
    startNode(config(id, electionMs), { logger: silent, transportLimits: TRANSPORT_LIMITS });

  const node1 = await start(1, 100);
  t.teardown(() => node1.stop());
  const before = samples(await scrape(node1));
  const node2 = await start(2, 3_000);
  t.teardown(() => node2.stop());

  const client = new KvClient({
    endpoints: [`127.0.0.1:${ports.get(1)!.client}`, `127.0.0.1:${ports.get(2)!.client}`],
    opDeadlineMs: 10_000,
  });
  t.teardown(() => client.close());
  for (let i = 0; i < 20; i++) t.equal((await client.put(`k${i}`, `v${i}`)).status, 'ok', `put k${i}`);
  t.same(await client.get('k7'), { status: 'ok', value: 'v7' });
  t.equal((await client.put('big', BIG_VALUE)).status, 'ok', 'a value larger than a peer frame');
  t.equal(node1.status().role, 'leader', 'node 1, with the shortest election timeout, leads');
  t.equal((await client.snapshotNow()).status, 'ok', 'a snapshot taken on the leader (loopback: admin is open)');
  await garbage(ports.get(1)!.peer);
  await garbage(ports.get(1)!.client);

  // Counters copied from the transport and client server refresh on a timer: poll, bounded.
  let after = new Map<string, number>();
  for (let i = 0; i < 100; i++) {
    after = samples(await scrape(node1));
    if (declared.every((name) => EXEMPT.has(name) || moved(before, after).has(name))) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const movedNames = moved(before, after);
  for (const name of declared) {
    if (EXEMPT.has(name)) continue;
    t.ok(movedNames.has(name), `${name} moved`);
  }
  t.equal(
    after.get('kvapp_raft_proposals_total{result="applied"}'),
    22,
    "the client's session registration and 21 puts, each counted once",
  );
  t.ok((after.get('kvapp_peer_large_messages_total{outcome="chunked"}') ?? 0) >= 1, 'the big value went in chunks');
  t.ok((after.get('kvapp_peer_queue_drops_total{peer="3"}') ?? 0) >= 1, 'the queue to the absent node overflowed');
  for (const name of EXEMPT.keys()) t.ok(declared.includes(name), `exemption ${name} names a declared metric`);
});

t.test('process and runtime metrics keep their standard names', async (t) => {
  const text = await new NodeMetrics().text();
  for (const name of [
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
    'process_start_time_seconds',
    'nodejs_heap_size_used_bytes',
    'nodejs_eventloop_lag_seconds',
  ]) {
    t.match(text, new RegExp(`^${name} `, 'm'), name);
  }
  t.notMatch(text, /^kvapp_(process|nodejs)_/m, 'no kvapp_ prefix on them');
});

import t from 'tap';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { KvClient } from '@kvapp/client';
import { ProcessCluster } from './process-cluster.js';
import { makeCa, makeLeaf, type CertFiles } from './test-certs.js';

/** TLS on both ports of real nodes: `--tls-cert/--tls-key/--tls-ca`, peers verify each other against the CA. */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function tlsArgs(leaf: CertFiles, ca: CertFiles): string[] {
  return ['--tls-cert', leaf.cert, '--tls-key', leaf.key, '--tls-ca', ca.cert];
}

async function waitLeader(client: KvClient, among: (endpoint: string) => boolean = () => true): Promise<string> {
  for (let attempt = 0; attempt < 150; attempt++) {
    for (const s of await client.statusAll()) if (s.ok && s.status.role === 'leader' && among(s.endpoint)) return s.endpoint;
    await sleep(100);
  }
  throw new Error('no leader within 15 s');
}

/** Polls a node's captured output every 100 ms, at most 150 times: only turns a hang into a failure. */
async function waitOutput(what: string, cond: () => boolean): Promise<void> {
  for (let attempt = 0; !cond(); attempt++) {
    if (attempt >= 150) throw new Error(`gave up waiting: ${what}`);
    await sleep(100);
  }
}

/** Opens a WebSocket and says how it ended: 'open', or the error that stopped it. */
async function tryOpen(url: string, options: WebSocket.ClientOptions): Promise<string> {
  const ws = new WebSocket(url, { handshakeTimeout: 3000, perMessageDeflate: false, ...options });
  const result = await new Promise<string>((resolve) => {
    ws.once('open', () => resolve('open'));
    ws.once('error', (err) => resolve(`error: ${err.message}`));
    ws.once('close', (code) => resolve(`closed: ${code}`));
  });
  ws.terminate();
  return result;
}

t.test('TLS on both ports', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kvapp-tls-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ca = makeCa(dir, 'cluster');
  const leaves = [1, 2, 3].map((id) => makeLeaf(dir, ca, `node${id}`));
  const rogueCa = makeCa(dir, 'rogue');
  const rogue = makeLeaf(dir, rogueCa, 'rogue');
  const caPem = readFileSync(ca.cert);

  t.test('a TLS cluster elects a leader and serves a client over wss; plain clients are refused', async (t) => {
    const cluster = await ProcessCluster.start(3, (id) => tlsArgs(leaves[id - 1]!, ca));
    t.teardown(() => cluster.close());
    const client = new KvClient({ endpoints: cluster.endpoints, opDeadlineMs: 5_000, tls: { ca: caPem } });
    t.teardown(() => client.close());
    await waitLeader(client);
    t.same(await client.put('tls-key', 'over-wss'), { status: 'ok', prev: null }, 'a write over wss is acknowledged');
    t.same(await client.get('tls-key'), { status: 'ok', value: 'over-wss' }, 'a linearizable read over wss sees it');

    const plain = new KvClient({ endpoints: cluster.endpoints, opDeadlineMs: 1_500, attemptMsMax: 500 });
    t.teardown(() => plain.close());
    const statuses = await plain.statusAll();
    t.ok(
      statuses.every((s) => !s.ok),
      `a plain ws:// client gets no answer from any TLS client port: ${statuses.map((s) => (s.ok ? 'ok' : s.message)).join('; ')}`,
    );
    const put = await plain.put('plain', 'x');
    t.equal(put.status, 'fail', 'a plain client write fails (it was never sent)');

    const node1 = cluster.nodes[0]!;
    t.notOk((await tryOpen(`ws://127.0.0.1:${node1.clientPort}/`, {})).startsWith('open'), 'ws:// to the TLS client port does not open');
    t.notOk((await tryOpen(`ws://127.0.0.1:${node1.peerPort}/`, {})).startsWith('open'), 'ws:// to the TLS peer port does not open');
    t.match(await tryOpen(`wss://127.0.0.1:${node1.clientPort}/`, {}), /^error: /, 'wss:// without the cluster CA does not trust the node');
    t.equal(await tryOpen(`wss://127.0.0.1:${node1.clientPort}/`, { ca: caPem }), 'open', 'wss:// with the CA opens (control)');
    t.same(await client.get('tls-key', { read: 'serializable' }), { status: 'ok', value: 'over-wss' }, 'the cluster still serves');
  });

  t.test('a peer with a certificate from another CA is refused, in both directions', async (t) => {
    // Node 3 knows the cluster secret and trusts the cluster CA, but its own certificate is from
    // another CA: nodes 1 and 2 refuse it as a dialer and do not trust it as a server.
    const cluster = await ProcessCluster.start(3, (id) => tlsArgs(id === 3 ? rogue : leaves[id - 1]!, ca));
    t.teardown(() => cluster.close());
    const [node1, , node3] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const client = new KvClient({
      endpoints: cluster.endpoints,
      opDeadlineMs: 5_000,
      tls: { ca: Buffer.concat([caPem, readFileSync(rogueCa.cert)]) },
    });
    t.teardown(() => client.close());
    const leader = await waitLeader(client);
    t.not(leader, `127.0.0.1:${node3.clientPort}`, 'node 3 is not the leader');
    t.equal((await client.put('quorum', 'of-two')).status, 'ok', 'nodes 1 and 2 form a quorum and commit');

    // The refusals themselves, in both directions: nodes 1 and 2 refuse node 3's certificate when
    // it dials them, and their own dials to node 3 give up on its certificate (node 3 sees the
    // handshake aborted). Only after both is node 3's ignorance worth asserting.
    const refusal = 'peer TLS handshake refused';
    await waitOutput(
      'nodes 1 and 2 refused node 3 as a dialer',
      () => cluster.nodes[0]!.output.includes(refusal) && cluster.nodes[1]!.output.includes(refusal),
    );
    await waitOutput('node 3 saw its server certificate refused', () => node3.output.includes(refusal));
    const [s3] = await client.statusAll().then((all) => all.filter((s) => s.endpoint === `127.0.0.1:${node3.clientPort}`));
    t.ok(s3?.ok, 'node 3 answers its own client port');
    if (s3?.ok) {
      t.equal(s3.status.leader, null, 'node 3 never learned of the leader');
      t.equal(s3.status.commitIndex, 0, 'node 3 committed nothing');
    }

    // Directly: the rogue certificate is refused by node 1's peer port during the TLS handshake,
    // while a certificate from the cluster CA gets through to the WebSocket (control).
    const peerUrl = `wss://127.0.0.1:${node1.peerPort}/`;
    const withRogue = await tryOpen(peerUrl, { ca: caPem, cert: readFileSync(rogue.cert), key: readFileSync(rogue.key) });
    t.not(withRogue, 'open', `a dialer with a rogue certificate is refused (${withRogue})`);
    const withNone = await tryOpen(peerUrl, { ca: caPem });
    t.not(withNone, 'open', `a dialer with no certificate is refused (${withNone})`);
    const withGood = await tryOpen(peerUrl, { ca: caPem, cert: readFileSync(leaves[1]!.cert), key: readFileSync(leaves[1]!.key) });
    t.equal(withGood, 'open', 'a dialer with a cluster-CA certificate gets through TLS (control)');
    t.ok(node3.process !== null && node1.process !== null, 'no node crashed over it');
  });
});

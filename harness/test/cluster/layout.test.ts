import t from 'tap';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { clusterLayout, defaultNodeIds, requiredLinks } from '../../src/cluster/layout.js';
import type { LayoutInput, NodePorts } from '../../src/cluster/layout.js';

/** Deterministic ports: node k gets 1000k+1..3, link m gets 20000+m. */
function input(ids: readonly string[]): LayoutInput {
  const nodePorts: Record<string, NodePorts> = {};
  ids.forEach((id, k) => (nodePorts[id] = { peer: 1000 * (k + 1) + 1, client: 1000 * (k + 1) + 2, http: 1000 * (k + 1) + 3 }));
  const proxyPorts: Record<string, number> = {};
  requiredLinks(ids).forEach((l, m) => (proxyPorts[l.name] = 20000 + m));
  return { nodeIds: ids, nodePorts, proxyPorts, runDir: '/run', clusterSecretFile: '/run/secret' };
}

function flag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

function parseList(value: string): Record<string, string> {
  return Object.fromEntries(value.split(',').map((kv) => kv.split('=') as [string, string]));
}

t.test('three nodes: exact flags of n1', async (t) => {
  const inp = input(defaultNodeIds(3));
  const layout = clusterLayout(inp);
  const n1 = layout.nodes[0]!;
  const port = (name: string): number => inp.proxyPorts[name]!;
  t.strictSame(n1.args, [
    '--id',
    'n1',
    '--data-dir',
    '/run/data/n1',
    '--peer-listen',
    '127.0.0.1:1001',
    '--client-listen',
    '127.0.0.1:1002',
    '--http-listen',
    '127.0.0.1:1003',
    '--peers',
    `n2=127.0.0.1:${port('n1->n2')},n3=127.0.0.1:${port('n1->n3')}`,
    '--client-addresses',
    `n1=127.0.0.1:${port('client->n1')},n2=127.0.0.1:${port('client->n2')},n3=127.0.0.1:${port('client->n3')}`,
    '--cluster-secret-file',
    '/run/secret',
  ]);
  t.equal(n1.logFile, '/run/logs/n1.log');
  t.equal(layout.links.length, 3 * 2 + 3);
  const n1n2 = layout.links.find((l) => l.name === 'n1->n2')!;
  t.strictSame(n1n2.target, { host: '127.0.0.1', port: 2001 }, 'n1->n2 forwards to n2 peer port');
  const c3 = layout.links.find((l) => l.name === 'client->n3')!;
  t.strictSame(c3.target, { host: '127.0.0.1', port: 3002 }, 'client->n3 forwards to n3 client port');
  t.strictSame(layout.clientAddresses['n2'], { host: '127.0.0.1', port: port('client->n2') });
});

t.test('one node: no --peers flag', async (t) => {
  const layout = clusterLayout(input(['solo']));
  t.equal(layout.nodes[0]!.args.includes('--peers'), false);
  t.same(
    layout.links.map((l) => l.name),
    ['client->solo'],
  );
});

t.test('bad input is a programmer error', async (t) => {
  t.throws(() => requiredLinks(['n1', 'n1']), /unique/);
  t.throws(() => requiredLinks(['a=b']));
  t.throws(() => requiredLinks(['client']));
  t.throws(() => requiredLinks([]));
  t.throws(() => defaultNodeIds(0));
  const inp = input(['n1', 'n2']);
  t.throws(() => clusterLayout({ ...inp, proxyPorts: { ...inp.proxyPorts, 'n1->n2': 1001 } }), /both/);
  const { ['client->n2']: _, ...missing } = inp.proxyPorts;
  t.throws(() => clusterLayout({ ...inp, proxyPorts: missing }), /client->n2/);
  t.throws(() => clusterLayout({ ...inp, nodePorts: { n1: inp.nodePorts['n1']! } }), /n2/);
});

t.test('property: every node reaches every peer through its own proxy, which forwards to that peer', async (t) => {
  const seed = Number(process.env['FC_SEED'] ?? Date.now() % 2 ** 31);
  t.comment(`fast-check seed ${seed} (rerun with FC_SEED=${seed})`);
  const property = fc.property(fc.integer({ min: 1, max: 7 }), (n) => {
    const ids = defaultNodeIds(n);
    const inp = input(ids);
    const layout = clusterLayout(inp);
    const byListen = new Map(layout.links.map((l) => [`${l.listen.host}:${l.listen.port}`, l]));
    assert.equal(byListen.size, n * (n - 1) + n, 'one proxy per link, all on distinct addresses');
    for (const node of layout.nodes) {
      const peers = flag(node.args, '--peers');
      const peerMap = peers === undefined ? {} : parseList(peers);
      assert.deepEqual(Object.keys(peerMap).sort(), ids.filter((j) => j !== node.id).sort());
      for (const [j, address] of Object.entries(peerMap)) {
        const link = byListen.get(address);
        assert.ok(link !== undefined, `${node.id}'s peer address ${address} is a proxy`);
        assert.equal(link.name, `${node.id}->${j}`);
        assert.equal(link.target.port, inp.nodePorts[j]!.peer);
      }
      const clients = parseList(flag(node.args, '--client-addresses')!);
      assert.deepEqual(Object.keys(clients), ids);
      for (const [j, address] of Object.entries(clients)) {
        const link = byListen.get(address)!;
        assert.equal(link.name, `client->${j}`);
        assert.equal(link.target.port, inp.nodePorts[j]!.client);
      }
      assert.equal(flag(node.args, '--peer-listen'), `127.0.0.1:${inp.nodePorts[node.id]!.peer}`);
    }
    assert.equal(new Set(layout.nodes.map((x) => x.dataDir)).size, n, 'a data dir per node');
  });
  t.doesNotThrow(() => fc.assert(property, { seed, numRuns: 50 }));
});

import t from 'tap';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { KvClient } from '@kvapp/client';
import { BOOTSTRAP_FILE } from '../../src/node/bootstrap-record.js';
import { startNode, type NodeHandle } from '../../src/node/start-node.js';
import { capturingLogger } from '../transport/support.js';
import { tmpDir } from '../wal/tmp-dir.js';
import { freePort, nodeInput, portIsFree, waitFor } from './node-support.js';

const silent = pino({ level: 'silent' });
const stored = (dir: string): { conf: { voters: number[]; learners: number[] }; addresses: Record<string, unknown> } =>
  JSON.parse(readFileSync(join(dir, BOOTSTRAP_FILE), 'utf8')) as never;
const clientOf = (node: NodeHandle) => `127.0.0.1:${node.addresses.client.port}`;
const votersOf = (node: NodeHandle): number[] => [...node.status().conf.voters];

/**
 * Three nodes, stopped at teardown. Their peer ports are fixed (the others dial them, and a
 * restart keeps them), taken just before they start; every other port is the system's choice
 * (port 0), so no other test can take it first. A node that joins announces the ports it bound.
 */
async function threeNodes(t: Parameters<typeof tmpDir>[0], extra: Record<string, unknown> = {}) {
  const root = tmpDir(t);
  const peerPorts = new Map<number, number>();
  for (const id of [1, 2, 3]) peerPorts.set(id, await freePort());
  const inputOf = (id: number, peerIds: number[], extra: Record<string, unknown> = {}) =>
    nodeInput(id, join(root, `n${id}`), {
      peerListen: `127.0.0.1:${peerPorts.get(id) ?? 0}`,
      clientListen: '127.0.0.1:0',
      peers: Object.fromEntries(peerIds.filter((p) => p !== id).map((peer) => [peer, `127.0.0.1:${peerPorts.get(peer)}`])),
      ...extra,
    });
  const nodes = new Map<number, NodeHandle>();
  t.teardown(async () => {
    for (const node of nodes.values()) await node.stop();
  });
  for (const id of [1, 2, 3]) nodes.set(id, await startNode(inputOf(id, [1, 2, 3], extra), { logger: silent }));
  await waitFor('a leader', () => [...nodes.values()].some((n) => n.status().role === 'leader'));
  const endpoints = () => [...nodes.values()].map(clientOf);
  return { root, nodes, inputOf, endpoints };
}

t.test('a 4th node joins from an empty data dir, catches up, becomes a voter, and every node learns its address', async (t) => {
  const { nodes, inputOf, endpoints } = await threeNodes(t);
  const writer = new KvClient({ endpoints: endpoints() });
  t.teardown(() => writer.close());
  for (let i = 0; i < 20; i++) t.equal((await writer.put(`k${i}`, `v${i}`)).status, 'ok');

  const { logger, lines } = capturingLogger();
  const fourth = await startNode(inputOf(4, [], { join: endpoints() }), { logger });
  nodes.set(4, fourth);
  t.same(stored(join(tmpDirOf(fourth, inputOf), '')).conf, { voters: [], learners: [] }, 'a joined data dir begins with no members');
  await waitFor('node 4 is a voter everywhere', () => [...nodes.values()].every((n) => votersOf(n).includes(4)), 400);
  t.ok(lines.some((l) => l['msg'] === 'joined the cluster as a learner'));
  await waitFor('node 4 logs its promotion', () => lines.some((l) => l['msg'] === 'promoted to voter'));
  t.pass('it asked to be promoted once caught up');
  await waitFor('node 4 applied the writes', () => fourth.status().applied >= nodes.get(1)!.status().commit);

  const admin = new KvClient({ endpoints: endpoints() });
  t.teardown(() => admin.close());
  const listed = await admin.listMembers();
  t.equal(listed.status, 'ok');
  const four = listed.members?.find((m) => m.id === 4);
  t.equal(four?.role, 'voter');
  t.equal(four?.client, clientOf(fourth), 'its client address came through the log');
  t.equal(listed.members?.filter((m) => m.leader).length, 1, 'one leader');
  t.ok(
    listed.members?.every((m) => m.match !== null && m.lag !== null),
    'the leader reports match and lag',
  );
});

t.test('a node that joins after the others compacted their logs catches up by a snapshot, logged and counted', async (t) => {
  const { nodes, inputOf, endpoints } = await threeNodes(t, { snapshotEntries: 20, httpListen: '127.0.0.1:0' });
  const writer = new KvClient({ endpoints: endpoints() });
  t.teardown(() => writer.close());
  for (let i = 0; i < 60; i++) t.equal((await writer.put(`k${i}`, `v${i}`)).status, 'ok');
  const { logger, lines } = capturingLogger();
  const fourth = await startNode(inputOf(4, [], { join: endpoints(), httpListen: '127.0.0.1:0' }), { logger });
  nodes.set(4, fourth);
  await waitFor('node 4 installed a snapshot', () => lines.some((l) => l['msg'] === 'snapshot installed from the leader'), 400);
  const installed = lines.find((l) => l['msg'] === 'snapshot installed from the leader')!;
  t.ok((installed['index'] as number) >= 20, `at index ${String(installed['index'])}, past the others' compaction`);
  t.ok((installed['bytes'] as number) > 0);
  const metrics = await (await fetch(`http://127.0.0.1:${fourth.addresses.http!.port}/metrics`)).text();
  t.match(metrics, /kvapp_snapshots_total\{origin="installed"\} [1-9]/, 'counted on /metrics');
  await waitFor('node 4 applied everything', () => fourth.status().applied >= nodes.get(1)!.status().commit, 400);
});

t.test(
  "a node joining past its leader's last snapshot, whose configuration leaves that leader out, still answers it and catches up",
  async (t) => {
    // Found by the nightly membership scenario: a new node installed the leader's snapshot, whose
    // configuration predated the leader's own addition; it then dialled only that configuration's
    // members, so its answers never reached the leader and it stayed a learner at the snapshot.
    const { nodes, inputOf, endpoints } = await threeNodes(t, { snapshotEntries: 20 });
    const writer = new KvClient({ endpoints: endpoints() });
    t.teardown(() => writer.close());
    for (let i = 0; i < 60; i++) t.equal((await writer.put(`k${i}`, `v${i}`)).status, 'ok');
    // Node 4 joins by a snapshot of the first three, becomes a voter and then the leader before it
    // applies the 20 entries that would make it take a snapshot of its own.
    const fourth = await startNode(inputOf(4, [], { join: endpoints() }), { logger: silent });
    nodes.set(4, fourth);
    await waitFor('node 4 is a voter everywhere', () => [...nodes.values()].every((n) => votersOf(n).includes(4)), 400);
    const admin = new KvClient({ endpoints: endpoints() });
    t.teardown(() => admin.close());
    t.equal((await admin.transferLeader(4)).status, 'ok');
    await waitFor('node 4 leads', () => fourth.status().role === 'leader', 400);
    const snapshotOfFour = readdirSync(join(tmpDirOf(fourth, inputOf), 'snap'));
    t.equal(snapshotOfFour.length, 1, `node 4 holds only the snapshot it installed: ${snapshotOfFour.join(', ')}`);

    const { logger, lines } = capturingLogger();
    const fifth = await startNode(inputOf(5, [], { join: endpoints() }), { logger });
    nodes.set(5, fifth);
    await waitFor('node 5 installed a snapshot', () => lines.some((l) => l['msg'] === 'snapshot installed from the leader'), 400);
    t.ok(
      lines.some((l) => l['msg'] === 'snapshot installed from the leader' && (l['index'] as number) >= 60),
      'from the snapshot node 4 installed',
    );
    await waitFor('node 5 is a voter everywhere', () => [...nodes.values()].every((n) => votersOf(n).includes(5)), 400);
    await waitFor('node 5 applied everything', () => fifth.status().applied >= fourth.status().commit, 400);
    t.equal((await writer.put('after', 'five')).status, 'ok');
  },
);

t.test('a restart with other peer flags keeps the voters of the log (warned), and a member added later is still dialled', async (t) => {
  const { nodes, inputOf, endpoints } = await threeNodes(t);
  const fourth = await startNode(inputOf(4, [], { join: endpoints() }), { logger: silent });
  nodes.set(4, fourth);
  await waitFor('node 4 is a voter everywhere', () => [...nodes.values()].every((n) => votersOf(n).includes(4)), 400);

  await nodes.get(1)!.stop();
  nodes.delete(1);
  const { logger, lines } = capturingLogger();
  // The careless restart: node 1 told only of node 3.
  const back = await startNode(inputOf(1, [3]), { logger });
  nodes.set(1, back);
  await waitFor('node 1 has applied the log again', () => votersOf(back).length === 4);
  t.same(votersOf(back), [1, 2, 3, 4], 'the voters come from the log, not from --peers');
  const isWarning = (l: Record<string, unknown>) => String(l['msg']).startsWith('the peer flags name other voters than the log');
  await waitFor('the disagreement is logged once node 1 caught up', () => lines.some(isWarning));
  const warned = lines.find(isWarning);
  t.ok(warned, 'the disagreement is logged');
  t.equal(warned?.['level'], 40, 'as a warning');
  t.same(warned?.['flags'], [1, 3]);
  t.same(warned?.['log'], [1, 2, 3, 4]);
  t.same(stored(join(tmpDirOf(back, inputOf), '')).conf.voters, [1, 2, 3], 'bootstrap.json still holds how the cluster began');

  // Node 1 reaches node 2 (address from bootstrap.json) and node 4 (address from the log).
  const writer = new KvClient({ endpoints: endpoints() });
  t.teardown(() => writer.close());
  t.equal((await writer.put('after', 'restart')).status, 'ok');
  await waitFor('node 1 applies a new write', () => back.status().applied >= nodes.get(2)!.status().commit && back.status().leader !== 0);
});

t.test('a removed node stops serving and says why; added back, it serves again', async (t) => {
  const { nodes, endpoints } = await threeNodes(t);
  const admin = new KvClient({ endpoints: endpoints() });
  t.teardown(() => admin.close());
  const removed = await admin.removeMember(3);
  t.equal(removed.status, 'ok', JSON.stringify(removed));
  const three = nodes.get(3)!;
  await waitFor('node 3 knows it was removed', () => three.status().outOfService !== null);
  t.match(three.status().outOfService, /was removed from the cluster's configuration/);
  t.equal(three.status().healthy, false, '/health says unhealthy');
  const direct = new KvClient({ endpoints: [clientOf(three)], retriesMax: 0 });
  t.teardown(() => direct.close());
  const refused = await direct.get('k', { read: 'serializable' });
  t.equal(refused.status, 'fail', JSON.stringify(refused));
  t.match(refused.status === 'fail' ? refused.error.message : '', /removed/);

  const again = await admin.addMember(3, { peer: `127.0.0.1:${three.addresses.peer.port}`, client: clientOf(three) });
  t.equal(again.status, 'ok', JSON.stringify(again));
  await waitFor('node 3 is a member again', () => three.status().outOfService === null);
  await waitFor('node 3 caught up', () => three.status().applied >= nodes.get(1)!.status().commit);
  t.equal((await admin.promoteMember(3)).status, 'ok');
});

t.test('member replace swaps a voter for a caught-up learner in one joint change, the leader too', async (t) => {
  const { nodes, inputOf, endpoints } = await threeNodes(t);
  const fourth = await startNode(inputOf(4, [], { join: endpoints(), joinAsLearner: true }), { logger: silent });
  nodes.set(4, fourth);
  await waitFor('node 4 is a learner everywhere', () => [...nodes.values()].every((n) => n.status().conf.learners.includes(4)), 400);
  await waitFor('node 4 caught up', () => fourth.status().applied >= nodes.get(1)!.status().commit && fourth.status().applied > 0);
  const admin = new KvClient({ endpoints: endpoints(), opDeadlineMs: 10_000, attemptMsMax: 8000 });
  t.teardown(() => admin.close());
  const leader = [...nodes.values()].find((n) => n.status().role === 'leader')!;
  const replaced = await admin.replaceMember(leader.id, 4);
  t.equal(replaced.status, 'ok', JSON.stringify(replaced));
  const others = [...nodes.values()].filter((n) => n.id !== leader.id);
  const expected = [...others.map((n) => n.id)].sort((a, b) => a - b);
  await waitFor('every remaining node has the new voters, joint left', () =>
    others.every((n) => votersOf(n).join(',') === expected.join(',') && n.status().conf.votersOutgoing.length === 0),
  );
  await waitFor('a new leader among them', () => others.some((n) => n.status().role === 'leader'), 400);
  const writer = new KvClient({ endpoints: others.map(clientOf) });
  t.teardown(() => writer.close());
  t.equal((await writer.put('after-replace', 'ok')).status, 'ok', 'the new configuration commits');
  const refused = await admin.replaceMember(4, 9);
  t.equal(refused.status === 'fail' && refused.error.code, 'refused', 'replacing by a node that is not a learner');
});

t.test('admin refusals: promote a lagging learner, remove a stranger, change two things at once', async (t) => {
  const { endpoints } = await threeNodes(t);
  const admin = new KvClient({ endpoints: endpoints() });
  t.teardown(() => admin.close());
  const stranger = await admin.removeMember(9);
  t.equal(stranger.status === 'fail' && stranger.error.code, 'refused');
  const notLearner = await admin.promoteMember(2);
  t.equal(notLearner.status === 'fail' && notLearner.error.code, 'refused');
  // A learner nobody runs never catches up: it stays refused.
  t.equal((await admin.addMember(7, { peer: '127.0.0.1:1', client: '127.0.0.1:2' })).status, 'ok');
  const writer = new KvClient({ endpoints: endpoints() });
  t.teardown(() => writer.close());
  // Enough entries that the absent learner lags beyond the bound.
  await Promise.all(
    Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; i < 300; i++) await writer.put(`w${w}-${i}`, 'x');
    }),
  );
  const lagging = await admin.promoteMember(7);
  t.equal(lagging.status === 'fail' && lagging.error.code, 'refused');
  t.match(lagging.status === 'fail' ? lagging.error.message : '', /entries behind the leader/);
  t.equal((await admin.removeMember(7)).status, 'ok');
});

t.test('admin access: a token, compared whole; none on a loopback port is open', async (t) => {
  const dir = tmpDir(t);
  const node = await startNode(nodeInput(1, dir, { adminToken: 'a-long-admin-token-1234' }), { logger: silent });
  t.teardown(() => node.stop());
  await waitFor('leader', () => node.status().role === 'leader');
  for (const [token, code] of [
    [undefined, 'unauthorized'],
    ['a-long-admin-token-123', 'unauthorized'],
    ['a-long-admin-token-1234', null],
  ] as const) {
    const c = new KvClient({ endpoints: [clientOf(node)], ...(token ? { adminToken: token } : {}) });
    const r = await c.listMembers();
    c.close();
    if (code === null) t.equal(r.status, 'ok', 'the right token');
    else t.equal(r.status === 'fail' && r.error.code, code, `token ${String(token)}`);
  }
  const plain = await startNode(nodeInput(2, tmpDir(t)), { logger: silent });
  t.teardown(() => plain.stop());
  await waitFor('leader', () => plain.status().role === 'leader');
  const c = new KvClient({ endpoints: [clientOf(plain)] });
  t.teardown(() => c.close());
  t.equal((await c.listMembers()).status, 'ok', 'loopback without a token');
  const snap = await c.snapshotNow();
  t.equal(snap.status, 'ok');
  t.ok(snap.status === 'ok' && (snap.index ?? 0) > 0, 'the snapshot covers the applied index');
});

t.test('a non-loopback client port without a token refuses admin requests', async (t) => {
  const { adminAccess } = await import('../../src/node/admin-access.js');
  const open = adminAccess({ token: null, tls: false, clientHost: '0.0.0.0' });
  t.match(open(undefined, { verifiedCertificate: false }), /not on loopback/);
  const tls = adminAccess({ token: null, tls: true, clientHost: '127.0.0.1' });
  t.match(tls(undefined, { verifiedCertificate: false }), /client certificate/);
  t.equal(tls(undefined, { verifiedCertificate: true }), null, 'a verified certificate is enough');
  t.equal(adminAccess({ token: null, tls: false, clientHost: '127.0.0.1' })(undefined, { verifiedCertificate: false }), null);
});

t.test('a data dir from an earlier version (a log but no bootstrap.json) takes the configured voters, logged', async (t) => {
  const dir = tmpDir(t);
  const first = await startNode(nodeInput(1, dir), { logger: silent });
  await waitFor('the one-node cluster elects itself', () => first.status().role === 'leader');
  await first.stop();
  rmSync(join(dir, BOOTSTRAP_FILE));
  const { logger, lines } = capturingLogger();
  const again = await startNode(nodeInput(1, dir), { logger });
  await again.stop();
  const adopted = lines.find((line) => line['msg'] === 'data dir had no bootstrap.json: took the voters of the configuration');
  t.equal(adopted?.['level'], 40, 'as a warning');
  t.same(stored(dir).conf.voters, [1]);
});

t.test('a version 1 bootstrap file (voters only) still starts the node; a damaged one is refused, naming it', async (t) => {
  const dir = tmpDir(t);
  const node = await startNode(nodeInput(1, dir), { logger: silent });
  await node.stop();
  const path = join(dir, BOOTSTRAP_FILE);
  writeFileSync(path, '{"version":1,"voters":[1]}\n');
  const v1 = await startNode(nodeInput(1, dir), { logger: silent });
  t.same(votersOf(v1), [1]);
  await v1.stop();
  for (const text of ['{"voters": []}', 'not json', '{"voters": [1, "2"]}', '{"version":2,"conf":{"voters":[1]}}']) {
    writeFileSync(path, text);
    const refused = await startNode(nodeInput(1, dir), { logger: silent }).catch((error: unknown) => error);
    t.match(String((refused as Error).message), `${path} is damaged`, text);
  }
});

t.test('a join nobody answers is one clear error and leaves nothing bound', async (t) => {
  const nowhere = await freePort();
  const peerPort = await freePort();
  const dataDir = tmpDir(t);
  const refused = await startNode(nodeInput(9, dataDir, { join: [`127.0.0.1:${nowhere}`], peerListen: `127.0.0.1:${peerPort}` }), {
    logger: silent,
  }).catch((error: unknown) => error);
  t.equal((refused as { code?: string }).code, 'JOIN_FAILED');
  t.match(String((refused as Error).message), new RegExp(`cannot join the cluster at 127.0.0.1:${nowhere} as node 9: unavailable`));
  t.notMatch(String((refused as Error).message), /\n/, 'one line');
  t.ok(await portIsFree(peerPort), 'the refused node bound nothing');
  // Nor is the data dir left locked or half begun: the same dir starts as a one-node cluster.
  const again = await startNode(nodeInput(9, dataDir), { logger: silent });
  t.teardown(() => again.stop());
  await waitFor('the one-node cluster elects itself', () => again.status().role === 'leader');
});

t.test('a node whose advertised address no other host can dial is refused before it asks to join', async (t) => {
  const refused = await startNode(nodeInput(9, tmpDir(t), { join: ['127.0.0.1:1'], advertisePeer: '0.0.0.0:7999' }), {
    logger: silent,
  }).catch((error: unknown) => error);
  t.equal((refused as { code?: string }).code, 'JOIN_FAILED');
  t.match(String((refused as Error).message), /peer address 0\.0\.0\.0:7999 is unspecified; give --advertise-peer/);
});

function tmpDirOf(node: NodeHandle, inputOf: (id: number, peers: number[]) => { dataDir: string }): string {
  return inputOf(node.id, []).dataDir;
}

import t from 'tap';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { BOOTSTRAP_FILE } from '../../src/node/bootstrap-voters.js';
import { StartError } from '../../src/node/start-error.js';
import { startNode, type NodeHandle } from '../../src/node/start-node.js';
import { capturingLogger } from '../transport/support.js';
import { tmpDir } from '../wal/tmp-dir.js';
import { freePort, nodeInput, portIsFree, waitFor } from './node-support.js';

const silent = pino({ level: 'silent' });
const storedVoters = (dir: string): unknown => (JSON.parse(readFileSync(join(dir, BOOTSTRAP_FILE), 'utf8')) as { voters: unknown }).voters;

t.test('node 1 of a 3-node cluster restarted with fewer voters is refused, naming both sets', async (t) => {
  const root = tmpDir(t);
  const ids = [1, 2, 3];
  const peerPorts = new Map<number, number>();
  for (const id of ids) peerPorts.set(id, await freePort());
  const inputOf = (id: number, peerIds = ids.filter((other) => other !== id)) =>
    nodeInput(id, join(root, `n${id}`), {
      peerListen: `127.0.0.1:${peerPorts.get(id)}`,
      peers: Object.fromEntries(peerIds.map((peer) => [peer, `127.0.0.1:${peerPorts.get(peer)}`])),
    });
  const nodes = new Map<number, NodeHandle>();
  t.teardown(async () => {
    for (const node of nodes.values()) await node.stop();
  });
  for (const id of ids) nodes.set(id, await startNode(inputOf(id), { logger: silent }));
  await waitFor('a leader', () => [...nodes.values()].some((n) => n.status().role === 'leader'));
  t.same(storedVoters(join(root, 'n1')), [1, 2, 3], 'the voters are stored at first start');

  await nodes.get(1)!.stop();
  nodes.delete(1);
  for (const [peers, named] of [
    [[], '1'],
    [[2], '1,2'],
  ] as const) {
    const refused = await startNode(inputOf(1, [...peers]), { logger: silent }).catch((error: unknown) => error);
    t.ok(refused instanceof StartError, String(refused));
    const error = refused as StartError;
    t.equal(error.code, 'BOOTSTRAP_MISMATCH');
    t.same(error.details['stored'], [1, 2, 3]);
    t.same(error.details['configured'], named.split(',').map(Number));
    t.match(error.message, new RegExp(`voters 1,2,3 but the configuration names voters ${named};`));
    t.notMatch(error.message, /\n/, 'one line');
    t.ok(await portIsFree(peerPorts.get(1)!), 'the refused node bound nothing');
  }
  t.same(storedVoters(join(root, 'n1')), [1, 2, 3], 'a refused start does not change the stored voters');

  const back = await startNode(inputOf(1), { logger: silent });
  nodes.set(1, back);
  await waitFor('node 1 rejoins and learns the leader', () => back.status().leader !== 0);
  t.equal([...nodes.values()].filter((n) => n.status().role === 'leader').length, 1);
});

t.test('a data dir from an earlier version (a log but no stored voters) adopts the configured ones, logged', async (t) => {
  const dir = tmpDir(t);
  const first = await startNode(nodeInput(1, dir), { logger: silent });
  await waitFor('the one-node cluster elects itself', () => first.status().role === 'leader');
  await first.stop();
  rmSync(join(dir, BOOTSTRAP_FILE));

  const { logger, lines } = capturingLogger();
  const again = await startNode(nodeInput(1, dir), { logger });
  await again.stop();
  const adopted = lines.find((line) => line['msg'] === 'data dir had no stored voters: adopted those of the configuration');
  t.ok(adopted, 'logged');
  t.equal(adopted?.['level'], 40, 'as a warning');
  t.same(adopted?.['voters'], [1]);
  t.same(storedVoters(dir), [1]);

  const refused = await startNode(nodeInput(1, dir, { peers: { 2: '127.0.0.1:1' } }), { logger: silent }).catch((error: unknown) => error);
  t.equal((refused as StartError).code, 'BOOTSTRAP_MISMATCH', 'from then on, other voters are refused');
});

t.test('a new data dir stores its voters quietly', async (t) => {
  const dir = tmpDir(t);
  const { logger, lines } = capturingLogger();
  const node = await startNode(nodeInput(1, dir, { peers: { 3: '127.0.0.1:1', 2: '127.0.0.1:2' } }), { logger });
  await node.stop();
  t.same(storedVoters(dir), [1, 2, 3]);
  t.ok(lines.some((line) => line['msg'] === 'new data dir: voters stored' && line['level'] === 30));
});

t.test('a damaged bootstrap file is refused, naming it', async (t) => {
  const dir = tmpDir(t);
  const node = await startNode(nodeInput(1, dir), { logger: silent });
  await node.stop();
  const path = join(dir, BOOTSTRAP_FILE);
  for (const text of ['{"voters": []}', 'not json', '{"voters": [1, "2"]}']) {
    writeFileSync(path, text);
    const refused = await startNode(nodeInput(1, dir), { logger: silent }).catch((error: unknown) => error);
    t.match(String((refused as Error).message), `${path} is damaged`, text);
  }
});

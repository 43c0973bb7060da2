import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/config-error.js';
import { startNode } from '../../src/node/start-node.js';
import { capturingLogger } from '../transport/support.js';
import { tmpDir } from '../wal/tmp-dir.js';
import { waitFor } from './node-support.js';

const storedVoters = (dir: string): unknown =>
  (JSON.parse(readFileSync(join(dir, 'bootstrap.json'), 'utf8')) as { conf: { voters: unknown } }).conf.voters;

t.test('startNode with only id, data dir, secret (and free ports) fills in the defaults and runs a one-node cluster', async (t) => {
  const dir = tmpDir(t);
  // No logLevel (pino threw) and no timing fields (a NaN tick threw a RangeError) before the defaults.
  // Ports 0 instead of the default 7001/8001, which other tests on this machine may hold.
  const { logger, lines } = capturingLogger();
  const node = await startNode(
    { id: 1, dataDir: dir, clusterSecret: 'node-test-secret', peerListen: '127.0.0.1:0', clientListen: '127.0.0.1:0' },
    { logger },
  );
  t.teardown(() => node.stop());
  await waitFor('the single node elects itself', () => node.status().role === 'leader');
  t.equal(node.addresses.http, null);
  const started = lines.find((line) => line['msg'] === 'node started');
  t.same((started?.['conf'] as { voters?: unknown } | undefined)?.voters, [1]);
});

t.test('startNode takes peers as a plain object, with string or numeric keys', async (t) => {
  for (const peers of [
    { '2': '127.0.0.1:1', '3': '127.0.0.1:2' },
    { 3: { host: '127.0.0.1', port: 2 }, 2: '127.0.0.1:1' },
  ]) {
    const dir = tmpDir(t);
    const node = await startNode({
      id: 1,
      dataDir: dir,
      clusterSecret: 'node-test-secret',
      peerListen: '127.0.0.1:0',
      clientListen: '127.0.0.1:0',
      logLevel: 'silent',
      peers,
    });
    await node.stop();
    t.same(storedVoters(dir), [1, 2, 3]);
  }
});

t.test('startNode rejects a bad config with a ConfigError naming every bad field, before touching the data dir', async (t) => {
  const dir = join(tmpDir(t), 'never-created');
  const refused = await startNode({
    id: 1,
    dataDir: dir,
    clusterSecret: 'short',
    tickMs: 0,
    peers: 'nonsense' as never,
    logLevel: 'chatty' as never,
  }).catch((error: unknown) => error);
  t.ok(refused instanceof ConfigError, String(refused));
  const problems = (refused as ConfigError).problems.join('\n');
  t.match(problems, /^peers: "nonsense" is not ID=HOST:PORT/m);
  t.match(problems, /^clusterSecret: must be at least 8 characters$/m);
  t.match(problems, /^tickMs: must be a positive integer, got 0$/m);
  t.match(problems, /^logLevel: must be one of/m);
  t.equal((refused as ConfigError).problems.length, 4, problems);
  t.notOk(existsSync(dir));
});

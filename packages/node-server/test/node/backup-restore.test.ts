import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { KvClient, readBackupFile } from '@kvapp/client';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/config/config-error.js';
import { BOOTSTRAP_FILE } from '../../src/node/bootstrap-record.js';
import { startNode, type NodeHandle } from '../../src/node/start-node.js';
import { StartError } from '../../src/node/start-error.js';
import { tmpDir } from '../wal/tmp-dir.js';
import { freePort, nodeInput, waitFor } from './node-support.js';

const silent = pino({ level: 'silent' });
const KVAPP = fileURLToPath(new URL('../../../client/bin/kvapp.js', import.meta.url));
const NODE_CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const clientOf = (node: NodeHandle) => `127.0.0.1:${node.addresses.client.port}`;

/** 120 values of 12 KiB: about 1.4 MiB of state, so a snapshot takes several 512 KiB chunks. */
const KEYS = 120;
const valueOf = (i: number) => `${String(i).padStart(6, '0')}:${'x'.repeat(12 * 1024)}`;

/** `count` nodes on fixed ports under `root`, each with `extra`; stopped at teardown. */
async function cluster(t: Test, root: string, count: number, extra: (id: number) => Record<string, unknown> = () => ({})) {
  const ids = Array.from({ length: count }, (_, i) => i + 1);
  const peerPorts = new Map<number, number>();
  for (const id of ids) peerPorts.set(id, await freePort());
  const inputOf = (id: number, more: Record<string, unknown> = {}) =>
    nodeInput(id, join(root, `n${id}`), {
      peerListen: `127.0.0.1:${peerPorts.get(id)}`,
      peers: Object.fromEntries(ids.filter((p) => p !== id).map((peer) => [peer, `127.0.0.1:${peerPorts.get(peer)}`])),
      ...extra(id),
      ...more,
    });
  const nodes = new Map<number, NodeHandle>();
  t.teardown(async () => {
    for (const node of nodes.values()) await node.stop();
  });
  for (const id of ids) nodes.set(id, await startNode(inputOf(id), { logger: silent }));
  await waitFor('a leader', () => [...nodes.values()].some((n) => n.status().role === 'leader'));
  return { nodes, inputOf, endpoints: () => [...nodes.values()].map(clientOf) };
}

async function run(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [command, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

t.test('kvapp snapshot save from a 3-node cluster, then a new 3-node cluster restored from the file serves the data', async (t) => {
  const root = tmpDir(t);
  // The old cluster compacts on its own too (every 50 entries), so the saved snapshot is the leader's fresh one.
  const old = await cluster(t, join(root, 'old'), 3, () => ({ snapshotEntries: 50 }));
  const writer = new KvClient({ endpoints: old.endpoints(), opDeadlineMs: 10_000 });
  t.teardown(() => writer.close());
  for (let i = 0; i < KEYS; i++) t.equal((await writer.put(`k${i}`, valueOf(i))).status, 'ok');
  t.equal((await writer.delete('k0')).status, 'ok');

  const file = join(root, 'backup.snap');
  const saved = await run(KVAPP, ['--endpoints', old.endpoints().join(','), 'snapshot', 'save', file]);
  t.equal(saved.code, 0, saved.stderr);
  t.equal(saved.stderr, '');
  const line = saved.stdout.trim().split('\n');
  t.equal(line.length, 1, 'one line');
  t.match(line[0], /^ok: snapshot saved to .*backup\.snap: index \d+, term \d+, \d+ bytes, sha256 [0-9a-f]{64} \(from 127\.0\.0\.1:\d+\)$/);
  const { header } = await readBackupFile(file);
  t.ok(header.bytes > 1024 * 1024, `the snapshot is ${header.bytes} bytes: several chunks`);
  t.ok(header.index >= KEYS + 1, 'it covers every write');
  t.same(readdirSync(root).sort(), ['backup.snap', 'old'], 'no temp file beside it');
  // The old cluster is gone for good (as after a disaster).
  for (const node of old.nodes.values()) await node.stop();
  old.nodes.clear();

  const restored = await cluster(t, join(root, 'new'), 3, () => ({ restore: file }));
  const reader = new KvClient({ endpoints: restored.endpoints(), opDeadlineMs: 10_000 });
  t.teardown(() => reader.close());
  t.same((await reader.get('k0')).value, null, 'the delete is in the snapshot');
  for (const i of [1, 2, 59, KEYS - 1]) t.same(await reader.get(`k${i}`), { status: 'ok', value: valueOf(i) }, `k${i}`);
  for (const node of restored.nodes.values()) {
    t.same(node.status().conf.voters, [1, 2, 3], `node ${node.id}: the new cluster's voters`);
    t.ok(node.status().term >= header.term, 'the term did not go back');
    const bootstrap = JSON.parse(readFileSync(join(root, 'new', `n${node.id}`, BOOTSTRAP_FILE), 'utf8')) as { conf: { voters: number[] } };
    t.same(bootstrap.conf.voters, [1, 2, 3], 'bootstrap.json names the new cluster');
  }
  t.equal((await reader.put('after', 'restore')).status, 'ok', 'the new cluster commits writes');
  const leader = [...restored.nodes.values()].find((n) => n.status().role === 'leader')!;
  t.ok(leader.status().commit > header.index, 'its log goes on past the snapshot index');

  // A fresh node without --restore joins the restored cluster and catches up by snapshot.
  const fourth = await startNode(
    nodeInput(4, join(root, 'new', 'n4'), { peerListen: `127.0.0.1:${await freePort()}`, join: restored.endpoints() }),
    { logger: silent },
  );
  restored.nodes.set(4, fourth);
  await waitFor('node 4 is a voter', () => fourth.status().conf.voters.includes(4), 400);
  await waitFor('node 4 applied the writes', () => fourth.status().applied >= leader.status().commit, 400);
  const direct = new KvClient({ endpoints: [clientOf(fourth)] });
  t.teardown(() => direct.close());
  t.same(await direct.get(`k${KEYS - 1}`, { read: 'serializable' }), { status: 'ok', value: valueOf(KEYS - 1) }, 'node 4 has the data');
  t.same(await direct.get('after', { read: 'serializable' }), { status: 'ok', value: 'restore' });
});

t.test('--restore refuses a data dir that holds anything, and a corrupt file, in one line, writing nothing', async (t) => {
  const root = tmpDir(t);
  const one = await cluster(t, join(root, 'src'), 1);
  const client = new KvClient({ endpoints: one.endpoints() });
  t.teardown(() => client.close());
  t.equal((await client.put('a', '1')).status, 'ok');
  const file = join(root, 'one.snap');
  const saved = await client.saveSnapshot(file);
  t.equal(saved.status, 'ok', JSON.stringify(saved));

  // Not empty: a data dir with a node's files in it.
  const used = join(root, 'used');
  mkdirSync(used);
  writeFileSync(join(used, 'something'), 'x');
  const refusal = await startNode(nodeInput(1, used, { restore: file }), { logger: silent }).then(
    () => null,
    (e: unknown) => e,
  );
  t.type(refusal, StartError);
  t.match(refusal, {
    code: 'RESTORE_REFUSED',
    message: `data dir ${used} is not empty (something); --restore seeds a new data dir only`,
  });
  t.same(readdirSync(used), ['something'], 'nothing written, the lock released');

  // Corrupt: one byte of the snapshot flipped.
  const bytes = readFileSync(file);
  bytes[bytes.length - 5] ^= 0xff;
  const corrupt = join(root, 'corrupt.snap');
  writeFileSync(corrupt, bytes);
  const fresh = join(root, 'fresh');
  const bad = await startNode(nodeInput(1, fresh, { restore: corrupt }), { logger: silent }).then(
    () => null,
    (e: unknown) => e,
  );
  t.match(bad, { code: 'RESTORE_REFUSED', message: /^cannot restore from .*corrupt\.snap: checksum mismatch .*; nothing was written$/ });
  t.same(readdirSync(fresh), [], 'nothing written');

  // The command: one line on stderr, exit 1.
  const cli = await run(NODE_CLI, [
    '--id',
    '1',
    '--data-dir',
    join(root, 'cli'),
    '--cluster-secret',
    'node-test-secret',
    '--peer-listen',
    '127.0.0.1:0',
    '--client-listen',
    '127.0.0.1:0',
    '--log-level',
    'silent',
    '--restore',
    corrupt,
  ]);
  t.equal(cli.code, 1);
  const lines = cli.stderr.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1, cli.stderr);
  t.match(lines[0], /^kvapp-node: cannot restore from .*corrupt\.snap: checksum mismatch/);
  t.same(readdirSync(join(root, 'cli')), [], 'nothing written by the command either');
});

t.test('--restore through the flags, the environment and a config file; not with --join', async (t) => {
  const base = ['--id', '2', '--data-dir', '/d', '--cluster-secret', 'long-enough-secret'];
  const flag = loadConfig({ argv: [...base, '--restore', '/backups/a.snap'], env: {} });
  t.equal(flag.help === false && flag.config.restore, '/backups/a.snap');
  const env = loadConfig({ argv: base, env: { KVAPP_RESTORE: '/backups/b.snap' } });
  t.equal(env.help === false && env.config.restore, '/backups/b.snap');
  const file = loadConfig({
    argv: [...base, '--config', '/c.json'],
    env: {},
    readFile: () => JSON.stringify({ restore: '/backups/c.snap' }),
  });
  t.equal(file.help === false && file.config.restore, '/backups/c.snap');
  const none = loadConfig({ argv: base, env: {} });
  t.equal(none.help === false && none.config.restore, null, 'unset: null');
  t.throws(() => loadConfig({ argv: [...base, '--restore', '/a.snap', '--join', '127.0.0.1:8001'], env: {} }), ConfigError);
  try {
    loadConfig({ argv: [...base, '--restore', '/a.snap', '--join', '127.0.0.1:8001'], env: {} });
  } catch (error) {
    t.match((error as ConfigError).problems, [/--restore seeds a new cluster and --join joins a running one/]);
  }
});

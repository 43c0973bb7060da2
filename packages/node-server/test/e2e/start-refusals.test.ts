import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KvClient } from '@kvapp/client';
import { freePort, occupy, waitFor } from '../node/node-support.js';
import { tmpDir } from '../wal/tmp-dir.js';
import { ProcessCluster } from './process-cluster.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** Deadline for a refused kvapp-node to exit; only turns a node that keeps running into a failure. */
const EXIT_MS_MAX = 30_000;

/** Runs kvapp-node with `args` until it exits (it must, being refused); stdout and stderr apart. */
async function runRefused(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_MS_MAX);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  if (signal === 'SIGKILL') throw new Error(`kvapp-node did not exit within ${EXIT_MS_MAX} ms; it kept running:\n${stdout}\n${stderr}`);
  return { code, stdout, stderr };
}

/** Asserts the refusal shape: non-zero exit, exactly one stderr line, no stack frames. */
function assertOneLineRefusal(t: Test, run: { code: number | null; stderr: string }, pattern: RegExp): void {
  t.not(run.code, 0, 'non-zero exit');
  t.not(run.code, null);
  const lines = run.stderr.split('\n').filter((line) => line !== '');
  t.equal(lines.length, 1, `one line on stderr: ${JSON.stringify(run.stderr)}`);
  t.notMatch(run.stderr, /^\s+at /m, 'no stack frames');
  t.match(lines[0] ?? '', pattern);
}

async function waitServing(client: KvClient): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    const outcome = await client.put('probe', 'x');
    if (outcome.status === 'ok') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the node did not serve a put within 150 attempts');
}

t.test(
  'kvapp-node without --peers runs a one-node cluster; a second process on its data dir is refused naming the pid; after kill -9 the LOCK is taken over',
  async (t) => {
    const cluster = await ProcessCluster.start(1);
    t.teardown(() => cluster.close());
    const node = cluster.nodes[0]!;
    t.ok(
      cluster.args(node).includes('--peers') && cluster.args(node)[cluster.args(node).indexOf('--peers') + 1] === '',
      'started with no peers',
    );
    const client = new KvClient({ endpoints: cluster.endpoints, opDeadlineMs: 3_000 });
    t.teardown(() => client.close());
    await waitServing(client);
    const firstPid = node.process!.pid!;

    const second = await runRefused(
      cluster.args(node, ['--peer-listen', `127.0.0.1:${await freePort()}`, '--client-listen', `127.0.0.1:${await freePort()}`]),
    );
    assertOneLineRefusal(t, second, new RegExp(`^kvapp-node: data dir .* is in use by process ${firstPid}\\b`));
    t.ok(node.process, 'the first node still runs');
    t.equal((await client.get('probe')).status, 'ok', 'and still serves');

    await cluster.kill(node);
    t.ok(existsSync(join(node.dataDir, 'LOCK')), 'kill -9 left the LOCK behind');
    cluster.launch(node);
    await waitServing(client);
    await waitFor('the takeover is logged', () => node.output.includes('took over the lock of a dead process'));
    const logged = node.output.split('\n').find((line) => line.includes('took over the lock'))!;
    t.equal((JSON.parse(logged) as { stalePid: number }).stalePid, firstPid);
  },
);

t.test('kvapp-node restarted with other --peers keeps the voters of its log: warned, and it still commits alone', async (t) => {
  const cluster = await ProcessCluster.start(1);
  t.teardown(() => cluster.close());
  const node = cluster.nodes[0]!;
  await waitFor('the data dir records how it began', () => existsSync(join(node.dataDir, 'bootstrap.json')));
  const client = new KvClient({ endpoints: cluster.endpoints });
  t.teardown(() => client.close());
  t.equal((await client.put('before', '1')).status, 'ok');
  await cluster.terminate(node);
  node.output = '';
  // The careless restart: two voters that do not exist. Believing them, it could commit nothing.
  cluster.launch(node, ['--peers', '2=127.0.0.1:1,3=127.0.0.1:2']);
  await waitFor('the disagreement is logged', () => node.output.includes('the peer flags name other voters than the log'));
  const warning = node.output.split('\n').find((line) => line.includes('the peer flags name other voters than the log')) ?? '{}';
  const fields = JSON.parse(warning) as { level?: number; flags?: number[]; log?: number[] };
  t.equal(fields.level, 40, 'a warning');
  t.same(fields.flags, [1, 2, 3]);
  t.same(fields.log, [1], 'the log says one voter');
  t.equal((await client.put('after', '2')).status, 'ok', 'still a one-node cluster: it commits alone');
  t.ok(node.process !== null, 'it runs');
});

for (const listener of ['peer', 'client', 'http'] as const) {
  t.test(`kvapp-node with its ${listener} port in use exits non-zero with one line, before talking to the cluster`, async (t) => {
    const ports = { peer: await freePort(), client: await freePort(), http: await freePort() };
    await occupy(t, ports[listener]);
    // A stand-in for peer 2 that counts connections: a node must not dial before all its ports are bound.
    let dialled = 0;
    const peer = await occupy(t, await freePort());
    peer.on('connection', (socket) => {
      dialled++;
      socket.destroy();
    });
    const run = await runRefused([
      CLI,
      '--id',
      '1',
      '--data-dir',
      join(tmpDir(t), 'n1'),
      '--peer-listen',
      `127.0.0.1:${ports.peer}`,
      '--client-listen',
      `127.0.0.1:${ports.client}`,
      '--http-listen',
      `127.0.0.1:${ports.http}`,
      '--peers',
      `2=127.0.0.1:${(peer.address() as { port: number }).port}`,
      '--cluster-secret',
      'e2e-cluster-secret',
      '--log-level',
      'info',
    ]);
    assertOneLineRefusal(
      t,
      run,
      new RegExp(
        `^kvapp-node: cannot listen on the ${listener} port 127\\.0\\.0\\.1:${ports[listener]}: EADDRINUSE \\(address already in use\\)$`,
      ),
    );
    t.notMatch(run.stdout, /"msg":"node started"/);
    t.equal(dialled, 0, 'peer 2 was never dialled');
  });
}

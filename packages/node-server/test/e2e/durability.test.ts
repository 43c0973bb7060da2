import t from 'tap';
import { once } from 'node:events';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KvClient } from '@kvapp/client';
import { ProcessCluster, type ProcessNode } from './process-cluster.js';

const ROUNDS = Number(process.env['KVAPP_E2E_KILL_ROUNDS'] ?? 4);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function leaderOf(cluster: ProcessCluster, client: KvClient): Promise<ProcessNode> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const statuses = await client.statusAll();
    for (const s of statuses) {
      if (s.ok && s.status.role === 'leader') return cluster.nodes.find((n) => n.id === s.status.nodeId)!;
    }
    await sleep(100);
  }
  throw new Error('no leader within 10 s');
}

async function waitConverged(client: KvClient, size: number, cluster?: ProcessCluster): Promise<void> {
  let statuses: Awaited<ReturnType<KvClient['statusAll']>> = [];
  for (let attempt = 0; attempt < 300; attempt++) {
    statuses = await client.statusAll();
    const oks = statuses.flatMap((s) => (s.ok ? [s.status] : []));
    const commit = Math.max(...oks.map((s) => s.commitIndex));
    if (oks.length === size && oks.every((s) => s.appliedIndex === commit) && oks.some((s) => s.role === 'leader')) return;
    await sleep(100);
  }
  const outputs = cluster
    ? cluster.nodes.map((n) => `--- node ${n.id} (${n.process ? 'running' : 'not running'}):\n${n.output.slice(-2000)}`).join('\n')
    : '';
  throw new Error(`nodes did not converge within 30 s: ${JSON.stringify(statuses)}\n${outputs}`);
}

t.test('acknowledged writes survive repeated kill -9 of the leader and of a follower', async (t) => {
  const cluster = await ProcessCluster.start(3);
  t.teardown(() => cluster.close());
  const client = new KvClient({ endpoints: cluster.endpoints, opDeadlineMs: 3_000 });
  t.teardown(() => client.close());
  await leaderOf(cluster, client);

  const acknowledged = new Map<string, string>();
  let indeterminate = 0;
  let sequence = 0;
  let writing = true;
  const writer = async (w: number) => {
    const c = new KvClient({ endpoints: cluster.endpoints, opDeadlineMs: 2_000 });
    try {
      while (writing) {
        const key = `w${w}-${sequence++}`;
        const value = `${key}@${Date.now()}`;
        const outcome = await c.put(key, value);
        if (outcome.status === 'ok') acknowledged.set(key, value);
        else if (outcome.status === 'indeterminate') indeterminate++;
      }
    } finally {
      await c.close();
    }
  };
  const writers = [0, 1, 2, 3].map(writer);

  const writesPerRound = 10;
  const ackedAtLeast = async (count: number) => {
    for (let waited = 0; acknowledged.size < count && waited < 30_000; waited += 50) await sleep(50);
  };
  for (let round = 0; round < ROUNDS; round++) {
    await ackedAtLeast((round + 1) * writesPerRound); // each round kills under a live write load
    const leader = await leaderOf(cluster, client);
    const victim = round % 2 === 0 ? leader : cluster.nodes.find((n) => n.id !== leader.id)!;
    await cluster.kill(victim);
    await sleep(600); // writes go on while the victim is down (a new election for a killed leader)
    cluster.launch(victim);
  }
  await ackedAtLeast((ROUNDS + 1) * writesPerRound);
  writing = false;
  await Promise.all(writers);
  await waitConverged(client, 3, cluster);

  t.ok(
    acknowledged.size >= (ROUNDS + 1) * writesPerRound,
    `${acknowledged.size} writes were acknowledged over ${ROUNDS} kill -9 rounds (${indeterminate} indeterminate)`,
  );
  let lost = 0;
  for (const [key, value] of acknowledged) {
    const read = await client.get(key);
    if (read.status !== 'ok' || read.value !== value) lost++;
  }
  t.equal(lost, 0, `every one of ${acknowledged.size} acknowledged writes is readable`);

  // A restarted node caught up: every node's own state holds every acknowledged write.
  for (const node of cluster.nodes) {
    const local = new KvClient({ endpoints: [`127.0.0.1:${node.clientPort}`], opDeadlineMs: 3_000 });
    let missing = 0;
    for (const [key, value] of acknowledged) {
      const read = await local.get(key, { read: 'serializable' });
      if (read.status !== 'ok' || read.value !== value) missing++;
    }
    await local.close();
    t.equal(missing, 0, `node ${node.id} applied every acknowledged write`);
  }
  t.comment(`kill -9 rounds: ${ROUNDS}; acknowledged writes verified: ${acknowledged.size}; indeterminate: ${indeterminate}`);
});

t.test('SIGTERM shuts a node down cleanly with exit code 0', async (t) => {
  const cluster = await ProcessCluster.start(3);
  t.teardown(() => cluster.close());
  const client = new KvClient({ endpoints: cluster.endpoints, opDeadlineMs: 3_000 });
  t.teardown(() => client.close());
  await leaderOf(cluster, client);
  t.equal((await client.put('before-term', 'x')).status, 'ok');
  for (const node of cluster.nodes) {
    const result = await cluster.terminate(node);
    t.same(result, { code: 0, signal: null }, `node ${node.id} exited 0 on SIGTERM`);
  }
});

async function segmentsOf(node: ProcessNode): Promise<string[]> {
  const dir = join(node.dataDir, 'wal');
  return (await readdir(dir))
    .filter((n) => n.endsWith('.wal'))
    .sort()
    .map((n) => join(dir, n));
}

t.test('a torn WAL tail is cut and the node rejoins; a flipped bit earlier refuses to start, naming file and offset', async (t) => {
  const cluster = await ProcessCluster.start(3);
  t.teardown(() => cluster.close());
  const client = new KvClient({ endpoints: cluster.endpoints, opDeadlineMs: 3_000 });
  t.teardown(() => client.close());
  await leaderOf(cluster, client);
  for (let i = 0; i < 20; i++) t.equal((await client.put(`k${i}`, `v${i}`)).status, 'ok');
  await waitConverged(client, 3, cluster);

  // Torn tail: a follower crashes in the middle of writing a record (a failpoint), as a power
  // cut would leave it: the record was never fsynced, so never acknowledged.
  const leader = await leaderOf(cluster, client);
  const follower = cluster.nodes.find((n) => n.id !== leader.id)!;
  await cluster.kill(follower);
  const crashing = cluster.launch(follower, [], { KVAPP_FAILPOINTS: 'wal-mid-record=crash' });
  const crashed = once(crashing, 'exit');
  for (let i = 20; i < 25; i++) t.equal((await client.put(`k${i}`, `v${i}`)).status, 'ok', 'the majority goes on');
  const [, signal] = (await crashed) as [number | null, NodeJS.Signals | null];
  t.equal(signal, 'SIGKILL', 'the failpoint crashed the follower mid-record');
  cluster.launch(follower);
  await waitConverged(client, 3, cluster);
  const files = await readdir(join(follower.dataDir, 'wal'));
  t.ok(
    files.some((f) => f.endsWith('.broken')),
    'the cut bytes are kept in a .broken file',
  );
  t.equal((await client.get('k24')).status, 'ok');

  // Corruption before the tail: flip a bit in the first record of the oldest segment.
  await cluster.kill(follower);
  const [oldest] = await segmentsOf(follower);
  const bytes = await readFile(oldest!);
  const at = 28 + 12; // past the segment header and the first frame's header: inside its payload
  bytes[at] = bytes[at]! ^ 0x10;
  await writeFile(oldest!, bytes);
  const child = cluster.launch(follower);
  const [code] = (await new Promise((resolve) => child.once('exit', (...args) => resolve(args)))) as [number | null];
  t.equal(code, 1, 'refuses to start');
  t.match(follower.output, oldest!, 'names the file');
  t.match(follower.output, /offset/, 'names the offset');
});

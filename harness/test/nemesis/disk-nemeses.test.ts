import t, { type Test } from 'tap';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { FaultContext } from '../../src/nemesis/module.js';
import { seededRandom } from '../../src/nemesis/partitions.js';
import { diskJournalPath, nextAcknowledgedWrite, powerCut, powerCutNodes, shapeOrder } from '../../src/nemesis/kinds/power-cut.js';
import type { PowerCutShape } from '../../src/nemesis/kinds/power-cut.js';
import { diskStallPath, slowDisk, stallMsMax, stallMsMin } from '../../src/nemesis/kinds/slow-disk.js';
import { mixKinds, nemeses } from '../../src/nemesis/registry.js';
import { bandColours } from '../../src/nemesis/band-colours.js';
import type { KvCluster } from '../../src/run/kv-cluster.js';
import type { OpSeen, Workload } from '../../src/workload/workload.js';

t.test('shapes: every two faults in a row include a cut of a majority or of every node', async (t) => {
  for (let seed = 1; seed <= 200; seed++) {
    const order = shapeOrder(seededRandom(seed));
    t.same([...order].sort(), ['all', 'majority', 'one'], `seed ${seed}: each shape once in three`);
    const run = Array.from({ length: 12 }, (_, i) => order[i % 3]!);
    for (let i = 1; i < run.length; i++) {
      if (run[i - 1] === 'one' && run[i] === 'one') t.fail(`seed ${seed}: two cuts of one node in a row`);
    }
  }
  const firsts = new Set(Array.from({ length: 50 }, (_, s) => shapeOrder(seededRandom(s + 1))[0]));
  t.same([...firsts].sort(), ['all', 'majority', 'one'], 'any shape may come first');
});

t.test('the nodes of each shape', async (t) => {
  const ids = ['1', '2', '3', '4', '5'];
  const random = seededRandom(3);
  for (let i = 0; i < 50; i++) {
    const one = powerCutNodes('one', ids, '2', random);
    t.equal(one.length, 1);
    const majority = powerCutNodes('majority', ids, '4', random);
    t.equal(majority.length, 3, 'a majority of 5');
    t.ok(majority.includes('4'), 'with the leader');
    t.same(majority, [...majority].sort(), 'sorted');
    t.equal(new Set(majority).size, 3, 'distinct');
  }
  t.same(powerCutNodes('all', ids, null, random), ids);
  t.equal(powerCutNodes('majority', ['1', '2', '3'], null, random).length, 2, 'no leader known: still a majority');
  t.same(powerCutNodes('majority', ['1'], '1', random), ['1'], 'one node is its own majority');
});

/** A workload that only reports operations the test feeds it. */
function fakeWorkload(): Pick<Workload, 'watch'> & { complete(op: Partial<OpSeen>): void; watchers: number } {
  const watchers = new Set<(op: OpSeen) => void>();
  return {
    watch: (w) => {
      watchers.add(w);
      return () => watchers.delete(w);
    },
    complete: (op) => {
      for (const w of [...watchers]) w({ f: 'write', invokedMs: 0, completedMs: 42, status: 'ok', ...op });
    },
    get watchers() {
      return watchers.size;
    },
  };
}

t.test('a cut waits for the next acknowledged write, not a read or a failure, and for a bounded time', async (t) => {
  const workload = fakeWorkload();
  const next = nextAcknowledgedWrite(workload, 5000, new AbortController().signal);
  workload.complete({ f: 'read', completedMs: 1 });
  workload.complete({ f: 'write', status: 'fail', completedMs: 2 });
  workload.complete({ f: 'cas', status: 'info', completedMs: 3 });
  workload.complete({ f: 'delete', status: 'ok', completedMs: 4 });
  t.equal(await next, 4);
  t.equal(workload.watchers, 0, 'it stops watching');
  t.equal(await nextAcknowledgedWrite(workload, 20, new AbortController().signal), null, 'none within the bound');
  const abort = new AbortController();
  const aborted = nextAcknowledgedWrite(workload, 60_000, abort.signal);
  abort.abort();
  t.equal(await aborted, null, 'an abort ends the wait');
  t.equal(workload.watchers, 0);
});

/** A run folder with data dirs, and a cluster that only records what the nemesis does to it. */
function stubCluster(t: Test, ids: readonly string[], leader: string | null) {
  const runDir = mkdtempSync(join(tmpdir(), 'disk-nemesis-'));
  t.teardown(() => rmSync(runDir, { recursive: true, force: true }));
  const alive = new Map(ids.map((id) => [id, true]));
  const calls: string[] = [];
  let healthyAfter = 0;
  const cluster = {
    ids,
    runDir,
    node: (id: string) => ({ dataDir: join(runDir, 'data', id) }),
    process: (id: string) => ({ alive: alive.get(id)! }),
    leader: async () => leader,
    kill: async (id: string) => {
      calls.push(`kill ${id}`);
      alive.set(id, false);
    },
    ensureRunning: async (id: string) => {
      calls.push(`start ${id}`);
      alive.set(id, true);
    },
    healthy: async () => --healthyAfter < 0,
  };
  for (const id of ids) {
    const dataDir = cluster.node(id).dataDir;
    mkdirSync(join(dataDir, 'wal'), { recursive: true });
  }
  return {
    cluster,
    calls,
    runDir,
    unhealthyPolls: (n: number) => (healthyAfter = n),
  };
}

function context(cluster: unknown, workload: unknown, seed: number): FaultContext {
  return {
    cluster: cluster as KvCluster,
    workload: workload as Workload,
    random: seededRandom(seed),
    signal: new AbortController().signal,
  };
}

t.test('power-cut: each node gets its own journal, absolute, under <runDir>/faults', async (t) => {
  const runDir = mkdtempSync(join(tmpdir(), 'disk-nemesis-'));
  t.teardown(() => rmSync(runDir, { recursive: true, force: true }));
  const env = powerCut.nodeEnv!({ id: '2', dataDir: join(runDir, 'data', '2'), runDir });
  t.same(env, { KVAPP_DISK_JOURNAL: join(runDir, 'faults', '2.disk-journal.jsonl') });
  t.ok(existsSync(join(runDir, 'faults')), 'the folder is made');
  t.ok(isAbsolute(diskJournalPath('relative/run', '1')), 'a relative run folder still gives an absolute path');
  const stall = slowDisk.nodeEnv!({ id: '3', dataDir: join(runDir, 'data', '3'), runDir });
  t.same(stall, { KVAPP_DISK_STALL_FILE: join(runDir, 'faults', '3.disk-stall') });
});

t.test('power-cut: kills its nodes, cuts their data dirs, keeps them down until the heal, which waits for the cluster', async (t) => {
  const ids = ['1', '2', '3'];
  const { cluster, calls, runDir, unhealthyPolls } = stubCluster(t, ids, '2');
  // Node 1 synced its segment's first 10 bytes and both directories; nodes 2 and 3 never synced.
  for (const id of ids) writeFileSync(join(cluster.node(id).dataDir, 'wal', '1.wal'), Buffer.alloc(50, 7));
  const dataDir1 = cluster.node('1').dataDir;
  const seg1 = join(dataDir1, 'wal', '1.wal');
  mkdirSync(join(runDir, 'faults'), { recursive: true });
  writeFileSync(
    diskJournalPath(runDir, '1'),
    [
      { dir: dataDir1, entries: { wal: lstatSync(join(dataDir1, 'wal')).ino } },
      { dir: join(dataDir1, 'wal'), entries: { '1.wal': lstatSync(seg1).ino } },
      { ino: lstatSync(seg1).ino, durable: 10, path: seg1 },
    ]
      .map((l) => `${JSON.stringify(l)}\n`)
      .join(''),
  );
  const workload = fakeWorkload();
  // Seeds whose first shape is each of the three (found by shapeOrder), so every shape is exercised.
  const seedFor = (shape: PowerCutShape): number => {
    for (let s = 1; ; s++) if (shapeOrder(seededRandom(s))[0] === shape) return s;
  };
  const pending = powerCut.start!(context(cluster, workload, seedFor('all')));
  await new Promise((r) => setTimeout(r, 20));
  t.same(calls, [], 'nothing is cut before a write is acknowledged');
  workload.complete({ f: 'write', completedMs: performance.now() });
  const fault = await pending;
  t.same(fault.detail.shape, 'all');
  t.same(fault.detail.nodes, ids);
  t.ok(typeof fault.detail.afterAckMs === 'number' && fault.detail.afterAckMs >= 0, 'the cut is timed from the acknowledgement');
  t.same(calls, ['kill 1', 'kill 2', 'kill 3']);
  t.ok(statSync(seg1).size >= 10 && statSync(seg1).size <= 50, "node 1's segment keeps its durable bytes (plus maybe a torn piece)");
  t.notOk(existsSync(join(cluster.node('2').dataDir, 'wal')), 'a data dir never synced loses everything');
  unhealthyPolls(2);
  const healed = await fault.heal();
  t.same(calls.slice(3), ['start 1', 'start 2', 'start 3'], 'the heal starts them again');
  t.ok(typeof healed.backMs === 'number', 'and waits until the cluster is whole');
  const cut = healed.cut as Record<string, number>;
  t.equal(cut.filesRemoved, 2, "nodes 2 and 3 lost their segments (node 1's was durable)");
  t.equal(cut.dirsRemoved, 2);
  t.match(
    powerCut.note!({ ...fault.detail, ...healed }),
    /^all cut of nodes 1,2,3: \d+ bytes cut from \d file\(s\), 2 file\(s\) and 2 dir\(s\) removed/,
  );
  const journal = readFileSync(diskJournalPath(runDir, '2'), 'utf8');
  t.match(journal, /"entries":\{\}/, "node 2's journal now declares its emptied data dir durable");
});

t.test('power-cut: a garbage journal fails the fault with one clear line', async (t) => {
  const { cluster, runDir } = stubCluster(t, ['1', '2', '3'], '1');
  mkdirSync(join(runDir, 'faults'), { recursive: true });
  for (const id of cluster.ids) writeFileSync(diskJournalPath(runDir, id), 'not a journal\n');
  let seed = 1;
  while (shapeOrder(seededRandom(seed))[0] !== 'all') seed++;
  const workload = fakeWorkload();
  const pending = powerCut.start!(context(cluster, workload, seed));
  workload.complete({});
  await t.rejects(pending, /disk journal .*1\.disk-journal\.jsonl line 1 is not JSON/);
});

t.test('slow-disk: stalls of 100-2000 ms redrawn while the fault lasts, the leader and a follower in turn, 0 after the heal', async (t) => {
  const { cluster, runDir } = stubCluster(t, ['1', '2', '3'], '2');
  mkdirSync(join(runDir, 'faults'), { recursive: true });
  const ctx = context(cluster, fakeWorkload(), 5);
  const roles: unknown[] = [];
  for (let i = 0; i < 4; i++) {
    const fault = await slowDisk.start!(ctx);
    const node = fault.detail.node as string;
    roles.push(fault.detail.role);
    t.equal(fault.detail.role === 'leader', node === '2', 'the leader is the node /health names');
    const stall = Number(readFileSync(diskStallPath(runDir, node), 'utf8'));
    t.ok(stall >= stallMsMin && stall <= stallMsMax, `a stall of ${stall} ms`);
    const healed = await fault.heal();
    t.equal(readFileSync(diskStallPath(runDir, node), 'utf8').trim(), '0', 'the heal writes 0');
    const stalls = healed.stallsMs as number[];
    t.ok(stalls.length >= 1 && stalls.every((ms) => ms >= stallMsMin && ms <= stallMsMax));
    t.match(
      slowDisk.note!({ ...fault.detail, ...healed }),
      /^node \d \((leader|follower)\): \d+ stall\(s\) of \d+-\d+ ms before each sync$/,
    );
  }
  t.same(roles.slice(1), roles[0] === 'leader' ? ['follower', 'leader', 'follower'] : ['leader', 'follower', 'leader'], 'they take turns');
});

t.test('both are in the mix, in the storage band, and run on 3 nodes in CI and 5 nightly', async (t) => {
  for (const kind of ['power-cut', 'slow-disk'] as const) {
    t.ok(mixKinds.includes(kind), `${kind} in mix`);
    t.equal(nemeses[kind].band.colour, bandColours.storage);
    t.same(nemeses[kind].suiteNodes, { ci: 3, nightly: 5 });
  }
  const runDir = mkdtempSync(join(tmpdir(), 'mix-env-'));
  t.teardown(() => rmSync(runDir, { recursive: true, force: true }));
  const env = nemeses.mix.nodeEnv!({ id: '1', dataDir: join(runDir, 'data', '1'), runDir });
  t.ok(env.KVAPP_DISK_JOURNAL && env.KVAPP_DISK_STALL_FILE, 'a mix run starts every node with both files');
});

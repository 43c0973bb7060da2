import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NemesisLog } from '../../src/history/nemesis-log.js';
import { seededRandom } from '../../src/nemesis/partitions.js';
import { runSchedule } from '../../src/nemesis/schedule.js';
import type { KvCluster } from '../../src/run/kv-cluster.js';
import type { Workload } from '../../src/workload/workload.js';
import { compactionMessage, metricSum, parseCompactions } from '../../src/cluster/node-signals.js';
import type { Compaction } from '../../src/cluster/node-signals.js';
import { ballastKey, ballastKeyCount, ballastKeyPrefix, ballastValue } from '../../src/nemesis/ballast.js';
import { awaitSnapshotCatchUp, catchUpNote, peerFrameBytes } from '../../src/nemesis/catch-up.js';
import type { CatchUpBounds, CatchUpProbe } from '../../src/nemesis/catch-up.js';
import { ballastBytes, ballastValueBytes, snapshotEntries } from '../../src/nemesis/kinds/snapshot-catch-up.js';
import { mixKinds, nemeses } from '../../src/nemesis/registry.js';
import { faultNotes } from '../../src/run/phases/check.js';
import { keyName } from '../../src/workload/workload.js';

const metricsText = `# HELP kvapp_peer_large_messages_total Raft messages above one peer frame
# TYPE kvapp_peer_large_messages_total counter
kvapp_peer_large_messages_total{outcome="chunked"} 2
kvapp_peer_large_messages_total{outcome="oversize"} 0
kvapp_peer_bytes_total{peer="2",direction="sent"} 100
kvapp_peer_bytes_total{peer="2",direction="received"} 23068800
kvapp_peer_bytes_total{peer="3",direction="received"} 1000
kvapp_peer_bytes_total_extra 7
kvapp_raft_term 3
`;

t.test('metricSum adds the samples whose labels match', async (t) => {
  t.equal(metricSum(metricsText, 'kvapp_peer_large_messages_total', { outcome: 'chunked' }), 2);
  t.equal(metricSum(metricsText, 'kvapp_peer_bytes_total', { direction: 'received' }), 23069800, 'over every peer');
  t.equal(metricSum(metricsText, 'kvapp_peer_bytes_total', { peer: '2', direction: 'received' }), 23068800);
  t.equal(metricSum(metricsText, 'kvapp_peer_bytes_total'), 23069900, 'no labels asked: every sample, not a longer name');
  t.equal(metricSum(metricsText, 'kvapp_raft_term'), 3, 'an unlabelled sample');
  t.equal(metricSum(metricsText, 'kvapp_peer_large_messages_total', { outcome: 'unfinished' }), 0, 'absent: 0');
});

t.test("parseCompactions reads the node's snapshot lines and skips the rest", async (t) => {
  const log = [
    '{"time":"2026-12-02T16:31:14.280Z","harness":"start","name":"1"}',
    `{"level":30,"time":1000,"node":1,"index":200,"bytes":1234,"msg":"${compactionMessage}"}`,
    '{"level":30,"time":1001,"node":1,"msg":"peer connected"}',
    'not json at all, snapshot taken, log compacted',
    `{"level":30,"time":1500,"node":1,"index":400,"bytes":23100000,"msg":"${compactionMessage}"}`,
    `{"level":30,"time":1600,"node":1,"index":600,"bytes":2`, // torn
  ].join('\n');
  t.same(parseCompactions(log), [
    { index: 200, bytes: 1234, timeMs: 1000 },
    { index: 400, bytes: 23100000, timeMs: 1500 },
  ]);
});

t.test('ballast: enough values past one frame, on keys the workload never uses', async (t) => {
  const keys = ballastKeyCount(ballastBytes, ballastValueBytes);
  t.equal(keys, 385);
  t.ok(keys * ballastValueBytes > peerFrameBytes * 1.25, 'the snapshot is well past one 16 MiB frame');
  t.ok(keys > snapshotEntries, 'the ballast alone is more entries than a snapshot interval: the others compact past the cut');
  t.ok(ballastValueBytes <= 64 * 1024, "under the nodes' valueBytesMax");
  t.equal(ballastValue(7, ballastValueBytes, 'q').length, ballastValueBytes);
  t.match(ballastValue(7, 100, 'q'), /^ballast-0007:q+$/);
  t.not(ballastValue(7, 100, 'q'), ballastValue(8, 100, 'q'), 'values differ by key');
  t.throws(() => ballastValue(1, 10, 'ab'), /one printable ASCII character/);
  t.throws(() => ballastKeyCount(0, 10), /positive integer/);
  for (let i = 0; i < 50; i++) t.notOk(keyName(i).startsWith(ballastKeyPrefix), `workload key ${keyName(i)} is not ballast`);
  t.equal(ballastKey(12), 'ballast-0012');
});

t.test('the nemesis is registered with the flags it needs and stays out of mix', async (t) => {
  const m = nemeses['snapshot-catch-up'];
  t.same(m.nodeArgs, ['--snapshot-entries', String(snapshotEntries)]);
  t.equal(m.inMix, false, 'too heavy for mix');
  t.notOk(mixKinds.includes('snapshot-catch-up'));
  t.equal(m.nodesMin, 3, 'a majority must stay to take the ballast');
  t.ok(m.suiteTiming!.ci.timeLimitS <= 30 && m.suiteTiming!.ci.recoverS >= m.suiteTiming!.ci.timeLimitS, 'CI: one fault within 30 s');
  t.ok(m.suiteTiming!.nightly.timeLimitS >= 120, 'nightly: minutes');
});

// ---- the judgement on a stub cluster ----

/**
 * Three nodes: 1 leads, 3 is the follower cut off at index 100. The leader compacted to 500 with a
 * 23 MB snapshot. `restore` brings the follower back unless told otherwise; once back, it takes
 * the snapshot (node 1 counts a chunked message, 3 receives its bytes) or, when `byAppends`, catches
 * up by appends.
 */
class StubCluster implements CatchUpProbe {
  restored = false;
  private polls = 0;
  readonly chunked = new Map([
    ['1', 5],
    ['2', 0],
  ]);
  received = 1000;
  constructor(
    readonly o: {
      readonly bringsBack: boolean;
      readonly byAppends?: boolean;
      readonly compactedTo?: number;
      readonly compactedBytes?: number;
      readonly commit?: number;
    } = {
      bringsBack: true,
    },
  ) {}
  async health(id: string) {
    const commit = this.o.commit ?? 520;
    if (id !== '3') return { commit, applied: commit };
    if (!this.restored) return { commit: 100, applied: 100 };
    this.polls += 1;
    if (this.polls < 3) return { commit: 100, applied: 100 };
    if (this.polls === 3 && !this.o.byAppends) {
      this.chunked.set('1', this.chunked.get('1')! + 1);
      this.received += 23_100_500;
    }
    return { commit, applied: commit };
  }
  async metrics(id: string) {
    const chunked = this.chunked.get(id) ?? 0;
    return [
      `kvapp_peer_large_messages_total{outcome="chunked"} ${chunked}`,
      `kvapp_peer_bytes_total{peer="1",direction="received"} ${id === '3' ? this.received : 0}`,
    ].join('\n');
  }
  async compactions(id: string): Promise<Compaction[]> {
    if (id === '3') return [{ index: 50, bytes: 100, timeMs: 1 }];
    const to = this.o.compactedTo;
    if (to !== undefined) return [{ index: to, bytes: this.o.compactedBytes ?? 23_100_000, timeMs: Date.now() - 1000 }];
    return [
      { index: 300, bytes: 22_000_000, timeMs: Date.now() - 2000 },
      { index: 500, bytes: 23_100_000, timeMs: Date.now() - 1000 },
    ];
  }
}

const fast: CatchUpBounds = { compactMsMax: 300, catchUpMsMax: 400, evidenceMsMax: 200, pollMs: 10 };

function plan(stub: StubCluster, overrides: { keepsCounters?: boolean } = {}) {
  return {
    follower: '3',
    others: ['1', '2'],
    indexAtCut: 100,
    restore: async () => {
      if (stub.o.bringsBack) stub.restored = true;
    },
    followerKeepsCounters: overrides.keepsCounters ?? true,
    signal: new AbortController().signal,
  };
}

t.test('a follower brought back by a chunked snapshot: the figures', async (t) => {
  const stub = new StubCluster();
  const f = await awaitSnapshotCatchUp(stub, plan(stub), fast);
  t.equal(f.indexAtCut, 100);
  t.equal(f.compactedTo, 500);
  t.equal(f.leaderCommitAtHeal, 520);
  t.same(f.senders, ['1']);
  t.equal(f.chunkedMessages, 1);
  t.equal(f.snapshotIndex, 500, "the sender's newest snapshot before the catch-up");
  t.equal(f.snapshotBytes, 23_100_000);
  t.equal(f.followerReceivedBytes, 23_100_500, 'received since the heal');
  t.ok(f.installMs >= 0 && f.installMs < 400);
  const note = catchUpNote({ follower: '3', mode: 'cut-off', ...f });
  t.match(
    note,
    /^follower 3 \(cut-off\) back by a chunked snapshot from node 1: 22\.0 MiB \(23100000 bytes\) at index 500, installed in \d\.\d\d s/,
  );
  t.equal(catchUpNote({ follower: '3', mode: 'kill' }), null, 'a start detail says nothing');
  t.match(catchUpNote({ follower: '3', mode: 'kill', healError: 'boom' }), /follower 3 \(kill\) did not come back by snapshot: boom/);
});

t.test('a restarted follower counts its received bytes from 0', async (t) => {
  const stub = new StubCluster();
  stub.received = 0;
  const f = await awaitSnapshotCatchUp(stub, plan(stub, { keepsCounters: false }), fast);
  t.equal(f.followerReceivedBytes, 23_100_500);
});

// Planted bugs: each check must fail when what it checks did not happen.

t.test('planted bug: the follower is never brought back, and the check says so', async (t) => {
  const stub = new StubCluster({ bringsBack: false });
  await t.rejects(
    awaitSnapshotCatchUp(stub, plan(stub), fast),
    /follower 3 did not catch up within 400 ms of the heal: applied 100, the leader's commit at the heal 520/,
  );
});

t.test('planted bug: a follower that caught up without a chunked snapshot is refused', async (t) => {
  const stub = new StubCluster({ bringsBack: true, byAppends: true });
  await t.rejects(awaitSnapshotCatchUp(stub, plan(stub), fast), /no other node sent a chunked message after the heal/);
});

t.test('planted bug: the others never compact past the follower, and it is not restored yet', async (t) => {
  const stub = new StubCluster({ bringsBack: true, compactedTo: 90 });
  await t.rejects(
    awaitSnapshotCatchUp(stub, plan(stub), fast),
    /did not compact past follower 3's log \(index 100\) into a snapshot above 16777216 bytes within 300 ms: newest snapshot 1: index 90/,
  );
  t.notOk(stub.restored, 'the caller restores it (the nemesis does, in a finally)');
});

t.test('planted bug: a snapshot past the follower but within one frame is not enough (it would not be chunked)', async (t) => {
  const stub = new StubCluster({ bringsBack: true, compactedTo: 500, compactedBytes: 15_000_000 });
  let nudges = 0;
  await t.rejects(
    awaitSnapshotCatchUp(
      stub,
      {
        ...plan(stub),
        nudge: async () => {
          nudges += 1;
          await new Promise((r) => setTimeout(r, 20));
        },
      },
      fast,
    ),
    /into a snapshot above 16777216 bytes .* 1: index 500, 15000000 bytes/,
  );
  t.ok(nudges >= 2, `the wait nudged the log on (${nudges} times) instead of only sleeping`);
  t.notOk(stub.restored);
});

t.test('faultNotes: one line per ended fault of a nemesis with a note', async (t) => {
  const detail = {
    follower: '2',
    mode: 'kill',
    snapshotBytes: 23_100_000,
    installMs: 1500,
    snapshotIndex: 900,
    senders: ['1'],
    leaderCommitAtHeal: 950,
    indexAtCut: 120,
    compactedTo: 800,
  };
  const notes = faultNotes([
    { nemesis: 'snapshot-catch-up', phase: 'start', detail: { follower: '2', mode: 'kill' } },
    { nemesis: 'snapshot-catch-up', phase: 'end', detail },
    { nemesis: 'kill', phase: 'end', detail: { nodes: ['1'] } },
    { nemesis: 'unknown-old', phase: 'end', detail },
  ]);
  t.equal(notes.length, 1);
  t.match(notes[0], /^snapshot-catch-up: follower 2 \(kill\) back by a chunked snapshot from node 1: 22\.0 MiB .* installed in 1\.50 s/);
});

t.test('a heal that throws still ends its period in nemesis.jsonl, with healError, and the schedule throws it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kvapp-schedule-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = new NemesisLog(join(dir, 'nemesis.jsonl'));
  // Just enough of a cluster for `kill`: its restart fails.
  const cluster = {
    ids: ['1', '2', '3'],
    kill: async () => {},
    ensureRunning: async () => {
      throw new Error('node would not start');
    },
  } as unknown as KvCluster;
  await t.rejects(
    runSchedule({
      kind: 'kill',
      cluster,
      workload: {} as Workload,
      random: seededRandom(1),
      signal: new AbortController().signal,
      log,
      faultS: 0.05,
      recoverS: 0,
      leadInS: 0,
      deadlineMs: performance.now() + 5000,
    }),
    /node would not start/,
  );
  await log.close();
  const events = readFileSync(join(dir, 'nemesis.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { phase: string; detail: Record<string, unknown> });
  t.same(
    events.map((e) => e.phase),
    ['start', 'end'],
  );
  t.equal(events[1]!.detail['healError'], 'node would not start');
});

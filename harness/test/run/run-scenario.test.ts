import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScenario } from '../../src/run/run-scenario.js';
import type { RunResultFile } from '../../src/run/run-scenario.js';
import type { ScenarioSpec } from '../../src/run/types.js';

/** Real kvapp-node processes: build first (`npm run build`), the nodes run packages/node-server/dist. */

const storeDir = mkdtempSync(join(tmpdir(), 'kvapp-run-test-'));
t.teardown(() => rmSync(storeDir, { recursive: true, force: true }));

/** Pids of live processes whose command line mentions `text` (a run folder). */
function processesMentioning(text: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue; // a zombie is gone, only not yet reaped
      if (cmdline.includes(text)) out.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

function base(name: string, over: Partial<ScenarioSpec>): ScenarioSpec {
  return {
    name,
    description: name,
    nodes: 3,
    nemesis: 'partition-halves',
    faultS: 3,
    recoverS: 1,
    workload: { keys: 4, clients: 4 },
    expect: 'valid',
    timeLimitS: 8,
    ...over,
  };
}

t.test('a short partition-halves run on 3 real nodes is valid and leaves every file', async (t) => {
  const seed = 20260101;
  const r = (await runScenario(base('test-halves', {}), { seed, storeDir })) as RunResultFile;
  t.equal(r.error, undefined, 'no harness error');
  t.equal(r.verdict, 'valid', `verdict (seed ${seed}, ${r.dir})`);
  t.equal(r.passed, true);
  t.equal(r.seed, seed);
  t.equal(r.checker.valid, true);
  t.equal(r.ackedWrites.lost, 0);
  t.ok(r.ackedWrites.checked > 0, `acknowledged writes were checked (${r.ackedWrites.checked})`);
  t.ok(r.ops.total > 0 && r.ops.ok > 0, `ops ran (${r.ops.total}, ${r.ops.ok} ok)`);
  t.ok(
    r.availability.some((p) => p.nemesis === 'partition-halves' && p.ops > 0),
    'a partition period with operations',
  );
  t.ok(r.latencyMs.p50 > 0 && r.latencyMs.max >= r.latencyMs.p99, 'latency percentiles');
  t.same(Object.keys(r.rssMb ?? {}), ['1', '2', '3'], "each node's resident memory");
  for (const [id, m] of Object.entries(r.rssMb ?? {})) {
    // A running kvapp-node holds tens of MB; the bounds only say the figure is a node's, in MB.
    t.ok(m.min >= 20 && m.min <= m.last && m.last <= m.max && m.max < 2048, `node ${id}: ${m.min}-${m.max} MB, last ${m.last}`);
    t.ok(m.samples >= 3, `node ${id}: ${m.samples} samples in a run of ${r.durationMs} ms`);
  }

  for (const f of ['history.jsonl', 'nemesis.jsonl', 'results.json', 'logs/1.log', 'logs/2.log', 'logs/3.log']) {
    t.ok(existsSync(join(r.dir, f)), `${f} present`);
  }
  const nemesis = readFileSync(join(r.dir, 'nemesis.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { nemesis: string; phase: string });
  t.ok(nemesis.filter((e) => e.phase === 'start').length >= 1, 'a fault was recorded');
  t.equal(nemesis.filter((e) => e.phase === 'start').length, nemesis.filter((e) => e.phase === 'end').length, 'each fault ended');
  const history = readFileSync(join(r.dir, 'history.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  t.same(
    Object.keys(history[0]!).slice(0, 7),
    ['process', 'type', 'f', 'key', 'value', 'time', 'index'],
    'history fields of docs/history-format.md',
  );
  const onDisk = JSON.parse(readFileSync(join(r.dir, 'results.json'), 'utf8')) as RunResultFile;
  t.same(onDisk, JSON.parse(JSON.stringify(r)), 'results.json is the result');
  t.ok(existsSync(join(r.dir, 'report.html')), 'report.html present');
  t.equal(r.reportError, undefined, 'the report was written');
  t.notOk(existsSync(join(r.dir, 'data')), 'data/ removed after a passing run');
  t.equal(realpathSync(join(storeDir, 'latest')), realpathSync(r.dir), 'latest points at the run');
  t.same(processesMentioning(r.dir), [], 'no node process left');
});

t.test('a nemesis on fewer nodes than its module needs is refused before anything starts', async (t) => {
  await t.rejects(
    runScenario(base('test-too-few', { nemesis: 'partition-bridge' }), { seed: 1, storeDir, nodes: 2 }),
    /nemesis partition-bridge needs at least 3 nodes, got 2/,
  );
  t.notOk(existsSync(join(storeDir, 'test-too-few')), 'no run folder');
});

t.test('--unsafe-local-reads with the leader isolated is caught', async (t) => {
  const seed = 7;
  const r = await runScenario(
    base('test-unsafe-reads', {
      nemesis: 'partition-isolate-leader',
      nodeArgs: ['--unsafe-local-reads'],
      nodeEnv: { KVAPP_ALLOW_UNSAFE: '1' },
      expect: 'invalid',
      timeLimitS: 7,
    }),
    { seed, storeDir },
  );
  t.equal(r.error, undefined, 'no harness error');
  t.equal(r.verdict, 'invalid', `verdict (seed ${seed}, ${r.dir})`);
  t.equal(r.checker.valid, false, 'the checker finds the stale reads');
  t.equal(r.passed, true);
  t.ok(r.checker.failedKeys.length > 0, `keys named (${r.checker.failedKeys.join(',')})`);
  t.same(processesMentioning(r.dir), [], 'no node process left');
});

t.test('an aborted run kills every node, closes the proxies and says unknown', async (t) => {
  const ac = new AbortController();
  let pidsDuring: number[] = [];
  const phasesAfterAbort = new Set<string>();
  // Aborted while the first fault is in force (a node may be paused): an event of the run, not
  // a moment on the wall clock.
  const r = await runScenario(base('test-abort', { nemesis: 'pause', faultS: 5, timeLimitS: 60 }), {
    seed: 3,
    storeDir,
    signal: ac.signal,
    onProgress: (p) => {
      if (ac.signal.aborted) {
        phasesAfterAbort.add(p.phase);
        return;
      }
      if (p.phase === 'faults' && p.nemesis !== null) {
        const dir = readdirSync(join(storeDir, 'test-abort')).map((d) => join(storeDir, 'test-abort', d))[0]!;
        pidsDuring = processesMentioning(dir);
        ac.abort();
      }
    },
  });
  t.ok(ac.signal.aborted, 'the abort was sent during a fault');
  t.equal(pidsDuring.length, 3, 'three nodes (one maybe paused) were running before the abort');
  t.equal(r.verdict, 'unknown');
  t.equal(r.error, 'aborted');
  t.equal(r.passed, false);
  // Stopped by the abort, not by the time limit: the fault in force was healed, no other fault
  // started, and the phases after the faults (heal, final reads) never ran.
  const nemesis = readFileSync(join(r.dir, 'nemesis.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { phase: string });
  t.same(
    nemesis.map((e) => e.phase),
    ['start', 'end'],
    'one fault, healed',
  );
  t.notOk(
    phasesAfterAbort.has('heal') || phasesAfterAbort.has('final-reads'),
    `phases after the abort: ${[...phasesAfterAbort].join(', ')}`,
  );
  t.ok(phasesAfterAbort.has('report'), 'the run still wrote its report');
  const onDisk = JSON.parse(readFileSync(join(r.dir, 'results.json'), 'utf8')) as RunResultFile;
  t.equal(onDisk.verdict, 'unknown');
  t.same(processesMentioning(r.dir), [], 'no node process left');
  for (const pid of pidsDuring) t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `pid ${pid} is gone`);
});

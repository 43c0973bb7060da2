import t from 'tap';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryRecorder } from '../../src/history/recorder.js';
import type { HistoryEvent } from '@kvapp/checker';
import { RunClock } from '../../src/history/run-clock.js';

const dir = mkdtempSync(join(tmpdir(), 'kvapp-history-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const nextPath = (): string => join(dir, `history-${++files}.jsonl`);

/** A clock that advances 1000 ns per reading, starting at 0 for the first event. */
function fakeClock(): RunClock {
  let ns = 0n;
  return new RunClock(() => {
    const now = ns;
    ns += 1000n;
    return now;
  });
}

const lines = (path: string): string[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');

t.test('writes the format of docs/history-format.md exactly', async (t) => {
  const path = nextPath();
  const h = new HistoryRecorder(path, { clock: fakeClock() });
  const p0 = h.newProcess();
  const p1 = h.newProcess();
  await h.invoke(p0, 'write', 'k1', 5);
  await h.invoke(p1, 'cas', 'k7', [4, 5]);
  await h.ok(p0);
  await h.fail(p1, 'cas-mismatch');
  await h.invoke(p0, 'read', 'k1');
  await h.ok(p0, 5);
  await h.invoke(p1, 'cas', 'k2', [null, 'a']);
  const p2 = await h.info(p1, 'timeout');
  t.equal(p2, 2, 'a fresh process replaces the retired one');
  await h.invoke(p2, 'read', 'k2');
  const summary = await h.close();
  t.same(summary, { events: 10, processes: 3, unfinished: 1 });
  t.strictSame(lines(path), [
    '{"process":0,"type":"invoke","f":"write","key":"k1","value":5,"time":1000,"index":0}',
    '{"process":1,"type":"invoke","f":"cas","key":"k7","value":[4,5],"time":2000,"index":1}',
    '{"process":0,"type":"ok","f":"write","key":"k1","value":5,"time":3000,"index":2}',
    '{"process":1,"type":"fail","f":"cas","key":"k7","value":[4,5],"time":4000,"index":3,"error":"cas-mismatch"}',
    '{"process":0,"type":"invoke","f":"read","key":"k1","value":null,"time":5000,"index":4}',
    '{"process":0,"type":"ok","f":"read","key":"k1","value":5,"time":6000,"index":5}',
    '{"process":1,"type":"invoke","f":"cas","key":"k2","value":[null,"a"],"time":7000,"index":6}',
    '{"process":1,"type":"info","f":"cas","key":"k2","value":[null,"a"],"time":8000,"index":7,"error":"timeout"}',
    '{"process":2,"type":"invoke","f":"read","key":"k2","value":null,"time":9000,"index":8}',
    '{"process":2,"type":"info","f":"read","key":"k2","value":null,"time":10000,"index":9}',
  ]);
  t.same(await h.close(), summary, 'close is idempotent');
});

t.test('a delete is invoked and completes with value null', async (t) => {
  const path = nextPath();
  const h = new HistoryRecorder(path, { clock: fakeClock() });
  const p0 = h.newProcess();
  await h.invoke(p0, 'delete', 'k1');
  await h.ok(p0);
  t.throws(() => h.invoke(p0, 'delete', 'k1', 'x' as never), /a delete is invoked with value null/);
  await h.invoke(p0, 'delete', 'k2');
  t.throws(() => h.ok(p0, null), /only a read/, 'a delete completes without a value');
  await h.close();
  t.strictSame(lines(path).slice(0, 2), [
    '{"process":0,"type":"invoke","f":"delete","key":"k1","value":null,"time":1000,"index":0}',
    '{"process":0,"type":"ok","f":"delete","key":"k1","value":null,"time":2000,"index":1}',
  ]);
  t.match(lines(path).slice(2), [/"type":"invoke","f":"delete","key":"k2"/, /"type":"info","f":"delete","key":"k2","value":null/]);
});

t.test('the rules are enforced', async (t) => {
  const h = new HistoryRecorder(nextPath());
  const p = h.newProcess();
  t.throws(() => h.invoke(7, 'read', 'k'), /never issued/);
  await h.invoke(p, 'write', 'k', 1);
  t.ok(h.busy(p));
  t.throws(() => h.invoke(p, 'read', 'k'), /in flight/);
  t.throws(() => h.ok(p, 1), /only a read/);
  await h.ok(p);
  t.notOk(h.busy(p));
  t.throws(() => h.ok(p), /no operation in flight/);
  t.throws(() => h.fail(p), /no operation in flight/);
  await h.invoke(p, 'read', 'k');
  t.throws(() => h.ok(p), /value read/, 'an ok read must say what it read');
  await h.ok(p, null);
  await h.invoke(p, 'write', 'k', 2);
  await h.info(p);
  t.throws(() => h.invoke(p, 'read', 'k'), /retired/);
  const q = h.newProcess();
  t.throws(() => h.invoke(q, 'write', 'k', 1.5 as number), /safe integer/);
  t.throws(() => h.invoke(q, 'write', 'k', null as unknown as number));
  t.throws(() => h.invoke(q, 'cas', 'k', [1] as unknown as [number, number]));
  t.throws(() => h.invoke(q, 'cas', 'k', [1, null] as unknown as [number, number]));
  t.throws(() => h.invoke(q, 'read', 'k', 1 as never));
  t.notOk(h.busy(q), 'rejected invocations record nothing');
  await h.close();
  t.throws(() => h.newProcess(), /closed/);
});

t.test('time is nanoseconds from the run start, on the run clock', async (t) => {
  const path = nextPath();
  // hrtime-like readings the test sets: the clock starts at 7 s, so times are relative to that.
  let ns = 7_000_000_000n;
  const h = new HistoryRecorder(path, { clock: new RunClock(() => ns) });
  const p = h.newProcess();
  ns += 1_500n;
  await h.invoke(p, 'read', 'k');
  ns += 20_000_000n;
  await h.ok(p, null);
  await h.close();
  const [a, b] = lines(path).map((l) => JSON.parse(l) as HistoryEvent);
  t.equal(a!.time, 1_500, 'the first event: 1.5 µs after the start');
  t.equal(b!.time, 20_001_500, 'the completion: 20 ms later, in ns');
});

t.test('the default run clock is monotonic: times never go back and are integers', async (t) => {
  const path = nextPath();
  const h = new HistoryRecorder(path);
  const p = h.newProcess();
  for (let i = 0; i < 50; i++) {
    await h.invoke(p, 'read', 'k');
    await h.ok(p, null);
  }
  await h.close();
  const times = lines(path).map((l) => (JSON.parse(l) as HistoryEvent).time);
  t.equal(times.length, 100);
  t.ok(
    times.every((time, i) => Number.isSafeInteger(time) && time >= 0 && (i === 0 || time >= times[i - 1]!)),
    'non-decreasing integers from 0',
  );
});

t.test('bounded buffering: with a tiny buffer an awaited event is already in the file', async (t) => {
  const path = nextPath();
  const h = new HistoryRecorder(path, { bufferedBytesMax: 1 });
  const p = h.newProcess();
  for (let i = 0; i < 20; i++) {
    await h.invoke(p, 'write', 'k', i);
    t.equal(lines(path).length, 2 * i + 1, `invoke ${i} reached the file before the caller went on`);
    await h.ok(p);
  }
  await h.close();
  t.equal(lines(path).length, 40);
});

t.test('a write error surfaces to awaiting callers and close', async (t) => {
  // A one-byte buffer holds every caller back until the disk took its line, so the first awaited
  // call is the one that meets the failed open: no waiting for the error to happen.
  const h = new HistoryRecorder(join(dir, 'no-such-dir', 'history.jsonl'), { bufferedBytesMax: 1 });
  const p = h.newProcess();
  await t.rejects(h.invoke(p, 'read', 'k'), { code: 'ENOENT' }, 'the caller held back sees the error');
  await t.rejects(h.ok(p, null), { code: 'ENOENT' }, 'a later caller sees it at once');
  await t.rejects(h.close(), { code: 'ENOENT' });
});

type Action =
  | { kind: 'invoke'; worker: number; f: 'read' | 'write' | 'cas'; key: number }
  | { kind: 'complete'; worker: number; how: 'ok' | 'fail' | 'info' };

t.test('property: any workload yields a well-formed history', async (t) => {
  const seed = Number(process.env['FC_SEED'] ?? Date.now() % 2 ** 31);
  t.comment(`fast-check seed ${seed} (rerun with FC_SEED=${seed})`);
  const action: fc.Arbitrary<Action> = fc.oneof(
    fc.record({
      kind: fc.constant('invoke' as const),
      worker: fc.nat(3),
      f: fc.constantFrom('read' as const, 'write' as const, 'cas' as const),
      key: fc.nat(2),
    }),
    fc.record({
      kind: fc.constant('complete' as const),
      worker: fc.nat(3),
      how: fc.constantFrom('ok' as const, 'fail' as const, 'info' as const),
    }),
  );
  const property = fc.asyncProperty(fc.array(action, { maxLength: 60 }), async (actions) => {
    const path = nextPath();
    const h = new HistoryRecorder(path, { bufferedBytesMax: 256 });
    const workers = [0, 1, 2, 3].map(() => h.newProcess());
    const lastF: string[] = [];
    let unique = 0;
    for (const a of actions) {
      const p = workers[a.worker]!;
      if (a.kind === 'invoke') {
        if (h.busy(p)) continue;
        const key = `k${a.key}`;
        lastF[a.worker] = a.f;
        if (a.f === 'read') await h.invoke(p, 'read', key);
        else if (a.f === 'write') await h.invoke(p, 'write', key, ++unique);
        else await h.invoke(p, 'cas', key, [unique, ++unique]);
      } else {
        if (!h.busy(p)) continue;
        if (a.how === 'ok') await (lastF[a.worker] === 'read' ? h.ok(p, null) : h.ok(p));
        else if (a.how === 'fail') await h.fail(p);
        else workers[a.worker] = await h.info(p);
      }
    }
    await h.close();
    // Re-check the file against the rules of docs/history-format.md, independently of the recorder's own state.
    const events = lines(path).map((l) => JSON.parse(l) as HistoryEvent);
    const open = new Map<number, HistoryEvent>();
    const retired = new Set<number>();
    let lastTime = -1;
    events.forEach((e, i) => {
      assert.equal(e.index, i);
      assert.ok(e.time >= lastTime, 'time never goes back');
      lastTime = e.time;
      assert.ok(!retired.has(e.process), `process ${e.process} reused after info`);
      if (e.type === 'invoke') {
        assert.ok(!open.has(e.process), 'one op in flight per process');
        open.set(e.process, e);
      } else {
        const inv = open.get(e.process);
        assert.ok(inv !== undefined, 'completion without invoke');
        assert.equal(e.f, inv.f);
        assert.equal(e.key, inv.key);
        open.delete(e.process);
        if (e.type === 'info') retired.add(e.process);
      }
    });
    assert.equal(open.size, 0, 'every invoke is completed by the end');
  });
  await t.resolves(fc.assert(property, { seed, numRuns: 40 }));
});

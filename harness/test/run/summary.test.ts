import t from 'tap';
import { historyFromEvents, type HistoryEvent } from '@kvapp/checker';
import { answered, availability, availabilityUnderFaults, latency, opCounts, operations as fromOperations } from '../../src/run/summary.js';
import type { NemesisEvent } from '../../src/history/nemesis-log.js';

const ms = 1e6;
/** The figures of events as the checker pairs them (the run reads its history back the same way). */
const operations = (events: readonly HistoryEvent[]): ReturnType<typeof fromOperations> =>
  fromOperations(historyFromEvents(events).operations);
/** An invocation's value that fits `f`; completions repeat it (an ok read reads absent). */
const valueOf = (f: HistoryEvent['f']): HistoryEvent['value'] => (f === 'write' ? 'v' : f === 'cas' ? [null, 'v'] : null);
let index = 0;
const ev = (process: number, type: HistoryEvent['type'], f: HistoryEvent['f'], time: number, error?: string): HistoryEvent => ({
  process,
  type,
  f,
  key: 'k',
  value: valueOf(f),
  time,
  index: index++,
  ...(error === undefined ? {} : { error }),
});

const events: HistoryEvent[] = [
  ev(0, 'invoke', 'read', 0),
  ev(0, 'ok', 'read', 10 * ms),
  ev(1, 'invoke', 'write', 100 * ms),
  ev(1, 'info', 'write', 200 * ms),
  ev(2, 'invoke', 'cas', 150 * ms),
  ev(2, 'fail', 'cas', 160 * ms, 'unavailable'),
  ev(3, 'invoke', 'read', 250 * ms),
  ev(3, 'ok', 'read', 290 * ms),
  ev(0, 'invoke', 'write', 400 * ms), // never completed
];
const nemesis: NemesisEvent[] = [
  { time: 90 * ms, nemesis: 'kill', phase: 'start', detail: null },
  { time: 240 * ms, nemesis: 'kill', phase: 'end', detail: null },
];

t.test('operations pair invokes with completions; an open one is info', async (t) => {
  const ops = operations(events);
  t.equal(ops.length, 5);
  t.same(opCounts(ops), {
    total: 5,
    ok: 2,
    fail: 1,
    info: 2,
    byF: { read: { ok: 2, fail: 0, info: 0 }, write: { ok: 0, fail: 0, info: 2 }, cas: { ok: 0, fail: 1, info: 0 } },
  });
});

t.test('availability per nemesis period, quiet time as none', async (t) => {
  const periods = availability(operations(events), nemesis, 500 * ms);
  t.same(periods, [
    { nemesis: 'none', startS: 0, endS: 0.09, ops: 1, ok: 1, answered: 1, share: 1 },
    { nemesis: 'kill', startS: 0.09, endS: 0.24, ops: 2, ok: 0, answered: 0, share: 0 },
    { nemesis: 'none', startS: 0.24, endS: 0.5, ops: 2, ok: 1, answered: 1, share: 0.5 },
  ]);
  t.same(availability([], [], 0), [{ nemesis: 'none', startS: 0, endS: 0, ops: 0, ok: 0, answered: 0, share: 0 }]);
});

t.test('availability counts every definite answer: a cas-mismatch is available, info and a given-up fail are not', async (t) => {
  let i = 0;
  const at = (process: number, type: HistoryEvent['type'], f: HistoryEvent['f'], time: number, error?: string): HistoryEvent => ({
    process,
    type,
    f,
    key: 'k',
    value: valueOf(f),
    time,
    index: i++,
    ...(error === undefined ? {} : { error }),
  });
  // A quiet period: 3 ok, 2 cas-mismatch, 1 fail the store gave for a bad command, 1 info,
  // 1 fail of a client that gave up (no node could serve it before its deadline).
  const quiet: HistoryEvent[] = [
    at(0, 'invoke', 'read', 1 * ms),
    at(0, 'ok', 'read', 2 * ms),
    at(1, 'invoke', 'write', 3 * ms),
    at(1, 'ok', 'write', 4 * ms),
    at(2, 'invoke', 'cas', 5 * ms),
    at(2, 'ok', 'cas', 6 * ms),
    at(3, 'invoke', 'cas', 7 * ms),
    at(3, 'fail', 'cas', 8 * ms, 'cas-mismatch'),
    at(4, 'invoke', 'cas', 9 * ms),
    at(4, 'fail', 'cas', 10 * ms, 'cas-mismatch'),
    at(5, 'invoke', 'write', 11 * ms),
    at(5, 'fail', 'write', 12 * ms, 'rejected'),
    at(6, 'invoke', 'write', 13 * ms),
    at(6, 'info', 'write', 14 * ms, 'deadline after an unknown attempt'),
    at(7, 'invoke', 'read', 15 * ms),
    at(7, 'fail', 'read', 16 * ms, 'unavailable'),
  ];
  const [period] = availability(operations(quiet), [], 20 * ms);
  t.same(
    period,
    { nemesis: 'none', startS: 0, endS: 0.02, ops: 8, ok: 3, answered: 6, share: 0.75 },
    'answered = ok + definite fails; share = answered / ops',
  );
  t.ok(answered({ type: 'fail', error: 'cas-mismatch' }) && answered({ type: 'fail' }) && answered({ type: 'ok' }));
  for (const code of ['not_leader', 'unavailable', 'overloaded', 'timeout', 'internal']) {
    t.notOk(answered({ type: 'fail', error: code }), `a fail with ${code} is the client giving up`);
  }
  t.notOk(answered({ type: 'info' }));
});

t.test('availability under faults: answered over ops of every period but none', async (t) => {
  t.equal(
    availabilityUnderFaults([
      { nemesis: 'kill', ops: 100, answered: 50 },
      { nemesis: 'none', ops: 1000, answered: 1000 },
      { nemesis: 'kill+pause', ops: 100, answered: 70 },
    ]),
    0.6,
  );
  t.equal(availabilityUnderFaults([{ nemesis: 'none', ops: 10, answered: 10 }]), null, 'no fault period');
  t.equal(availabilityUnderFaults([{ nemesis: 'kill', ops: 0, answered: 0 }]), null, 'fault periods without ops');
});

t.test('latency percentiles over ok operations', async (t) => {
  t.same(latency(operations(events)), { p50: 10, p90: 40, p99: 40, max: 40 });
  t.same(latency([]), { p50: 0, p90: 0, p99: 0, max: 0 });
});

import t from 'tap';
import { availability, latency, opCounts, operations } from '../../src/run/summary.js';
import type { HistoryEvent } from '../../src/history/recorder.js';
import type { NemesisEvent } from '../../src/history/nemesis-log.js';

const ms = 1e6;
let index = 0;
const ev = (process: number, type: HistoryEvent['type'], f: HistoryEvent['f'], time: number): HistoryEvent => ({ process, type, f, key: 'k', value: null, time, index: index++ });

const events: HistoryEvent[] = [
  ev(0, 'invoke', 'read', 0), ev(0, 'ok', 'read', 10 * ms),
  ev(1, 'invoke', 'write', 100 * ms), ev(1, 'info', 'write', 200 * ms),
  ev(2, 'invoke', 'cas', 150 * ms), ev(2, 'fail', 'cas', 160 * ms),
  ev(3, 'invoke', 'read', 250 * ms), ev(3, 'ok', 'read', 290 * ms),
  ev(0, 'invoke', 'write', 400 * ms), // never completed
];
const nemesis: NemesisEvent[] = [
  { time: 90 * ms, nemesis: 'kill', phase: 'start', detail: null },
  { time: 240 * ms, nemesis: 'kill', phase: 'end', detail: null },
];

t.test('operations pair invokes with completions; an open one is info', async (t) => {
  const ops = operations(events);
  t.equal(ops.length, 5);
  t.same(opCounts(ops), { total: 5, ok: 2, fail: 1, info: 2, byF: { read: { ok: 2, fail: 0, info: 0 }, write: { ok: 0, fail: 0, info: 2 }, cas: { ok: 0, fail: 1, info: 0 } } });
});

t.test('availability per nemesis period, quiet time as none', async (t) => {
  const periods = availability(operations(events), nemesis, 500 * ms);
  t.same(periods, [
    { nemesis: 'none', startS: 0, endS: 0.09, ops: 1, ok: 1, share: 1 },
    { nemesis: 'kill', startS: 0.09, endS: 0.24, ops: 2, ok: 0, share: 0 },
    { nemesis: 'none', startS: 0.24, endS: 0.5, ops: 2, ok: 1, share: 0.5 },
  ]);
  t.same(availability([], [], 0), [{ nemesis: 'none', startS: 0, endS: 0, ops: 0, ok: 0, share: 0 }]);
});

t.test('latency percentiles over ok operations', async (t) => {
  t.same(latency(operations(events)), { p50: 10, p90: 40, p99: 40, max: 40 });
  t.same(latency([]), { p50: 0, p90: 0, p99: 0, max: 0 });
});

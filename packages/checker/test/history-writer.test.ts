import t from 'tap';
import { eventLine, eventsJsonl, HistoryUsageError, HistoryWriter } from '../src/history-writer.js';
import { parseHistory } from '../src/read-history.js';
import type { HistoryEvent } from '../src/history.js';

t.test('the writer makes events the reader pairs back into the same operations', async (t) => {
  const w = new HistoryWriter();
  const events: HistoryEvent[] = [];
  let time = 0;
  events.push(w.invoke(++time, 0, 'write', 'k', 'a'));
  events.push(w.invoke(++time, 1, 'delete', 'k'));
  events.push(w.invoke(++time, 2, 'cas', 'k', [null, 'b']));
  events.push(w.ok(++time, 0));
  events.push(w.ok(++time, 1));
  events.push(w.fail(++time, 2, 'cas-mismatch'));
  events.push(w.invoke(++time, 0, 'read', 'k'));
  events.push(w.ok(++time, 0, null));
  events.push(w.invoke(++time, 1, 'write', 'k', 7));
  events.push(w.info(time + 1, 1, 'timeout'));
  t.same(
    events.map((e) => e.index),
    [...events.keys()],
    'index counts the events from 0',
  );
  t.equal(w.events, events.length);
  t.same(events[3], { process: 0, type: 'ok', f: 'write', key: 'k', value: 'a', time: 4, index: 3 }, 'a completion repeats the invocation');
  t.same(events[4], { process: 1, type: 'ok', f: 'delete', key: 'k', value: null, time: 5, index: 4 });
  const h = parseHistory(eventsJsonl(events));
  t.match(h.operations, [
    { f: 'write', input: 'a', status: 'ok' },
    { f: 'delete', input: null, status: 'ok' },
    { f: 'cas', input: [null, 'b'], status: 'mismatch' },
    { f: 'read', output: null, status: 'ok' },
    { f: 'write', input: 7, status: 'info', error: 'timeout' },
  ]);
  // The reader keeps a completion's value only for a read (the format ignores the others').
  const valueKept = (e: HistoryEvent): boolean => e.type === 'invoke' || e.f === 'read';
  t.same(
    h.events.map(({ line: _line, ...e }) => e),
    events.map((e) => (valueKept(e) ? e : { ...e, value: null })),
    'every event reads back as written',
  );
});

t.test('a line has the fields in the order of the format, error only when there is one', async (t) => {
  t.equal(
    eventLine({ error: 'x', index: 3, time: 9, value: [null, 1], key: 'k', f: 'cas', type: 'fail', process: 4 }),
    '{"process":4,"type":"fail","f":"cas","key":"k","value":[null,1],"time":9,"index":3,"error":"x"}',
  );
  t.equal(
    eventLine({ process: 'p', type: 'invoke', f: 'delete', key: 'k', value: null, time: 1 }),
    '{"process":"p","type":"invoke","f":"delete","key":"k","value":null,"time":1}',
  );
});

t.test('breaking the format throws and records nothing', async (t) => {
  const w = new HistoryWriter();
  t.throws(() => w.ok(1, 0), HistoryUsageError);
  t.throws(() => w.ok(1, 0), /no operation in flight/);
  t.throws(() => w.invoke(1, 0, 'write', 'k', 1.5), /safe integer/);
  t.throws(() => w.invoke(1, 0, 'cas', 'k', [1, null] as unknown as [number, number]), /new value/);
  t.throws(() => w.invoke(1, 0, 'delete', 'k', 3 as never), /a delete is invoked with value null/);
  t.throws(() => w.invoke(1, 0, 'read', 'k', 3 as never), /a read is invoked with value null/);
  t.throws(() => w.invoke(1, 0, 'increment' as never, 'k'), /unknown f/);
  t.equal(w.events, 0, 'nothing was recorded');
  w.invoke(1, 0, 'read', 'k');
  t.throws(() => w.invoke(2, 0, 'read', 'k'), /already has an operation in flight/);
  t.throws(() => w.ok(2, 0), /value read/, 'an ok read must say what it read');
  t.ok(w.busy(0), 'a rejected completion leaves the operation in flight');
  w.invoke(2, 1, 'write', 'k', 1);
  t.throws(() => w.ok(3, 1, 1), /only a read/);
  t.same(w.openProcesses(), [0, 1]);
  t.equal(w.events, 2);
});

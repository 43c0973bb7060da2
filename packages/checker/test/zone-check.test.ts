import t from 'tap';
import { historyFromEvents } from '../src/read-history.js';
import { prepareKey } from '../src/kv-partition.js';
import { zoneCheck } from '../src/zone-check.js';

function conflict(lines: [number, string, string, unknown, string?][]): string | undefined {
  const events = lines.map(([process, type, f, value, error], i) => ({
    process,
    type,
    f,
    key: 'k',
    value,
    time: i,
    index: i,
    ...(error ? { error } : {}),
  }));
  const part = prepareKey('k', historyFromEvents(events).operations, true);
  const c = zoneCheck(part.ops, part.values.length, part.model.init(), (v) => `value ${JSON.stringify(part.values[v] ?? null)}`);
  return c?.reason;
}

t.test('finds what is certainly wrong with unique values', async (t) => {
  t.match(
    conflict([
      [1, 'invoke', 'write', 1],
      [1, 'ok', 'write', 1],
      [2, 'invoke', 'write', 2],
      [2, 'ok', 'write', 2],
      [3, 'invoke', 'read', null],
      [3, 'ok', 'read', 1],
    ]),
    /value 1 had been overwritten/,
    'a stale read',
  );
  t.match(
    conflict([
      [3, 'invoke', 'read', null],
      [3, 'ok', 'read', 1],
      [1, 'invoke', 'write', 1],
      [1, 'ok', 'write', 1],
    ]),
    /returned before value 1 was written/,
    'a read from the future',
  );
  t.match(
    conflict([
      [3, 'invoke', 'read', null],
      [3, 'ok', 'read', 9],
    ]),
    /value 9 was never written/,
  );
  t.match(
    conflict([
      [1, 'invoke', 'write', 1],
      [1, 'ok', 'write', 1],
      [2, 'invoke', 'cas', [1, 2]],
      [2, 'ok', 'cas', [1, 2]],
      [3, 'invoke', 'cas', [1, 3]],
      [3, 'ok', 'cas', [1, 3]],
    ]),
    /two successful cas expect value 1/,
  );
  t.match(
    conflict([
      [1, 'invoke', 'write', 1],
      [1, 'ok', 'write', 1],
      [3, 'invoke', 'read', null],
      [3, 'ok', 'read', null],
    ]),
    /value null had been overwritten/,
    'the initial value after a write',
  );
  t.match(
    conflict([
      [1, 'invoke', 'write', 1],
      [2, 'invoke', 'write', 2],
      [1, 'ok', 'write', 1],
      [2, 'ok', 'write', 2],
      [3, 'invoke', 'read', null],
      [4, 'invoke', 'read', null],
      [3, 'ok', 'read', 1],
      [4, 'ok', 'read', 2],
      [5, 'invoke', 'read', null],
      [6, 'invoke', 'read', null],
      [5, 'ok', 'read', 1],
      [6, 'ok', 'read', 2],
    ]),
    /must each hold for a whole stretch of time/,
    'two values that must each hold at once',
  );
});

t.test('says nothing where it cannot be sure', async (t) => {
  t.equal(
    conflict([
      [1, 'invoke', 'write', 1],
      [2, 'invoke', 'write', 2],
      [1, 'ok', 'write', 1],
      [2, 'ok', 'write', 2],
      [3, 'invoke', 'read', null],
      [3, 'ok', 'read', 1],
    ]),
    undefined,
    'concurrent writes',
  );
  t.equal(
    conflict([
      [1, 'invoke', 'write', 1],
      [1, 'ok', 'write', 1],
      [2, 'invoke', 'write', 1],
      [2, 'ok', 'write', 1],
      [4, 'invoke', 'write', 2],
      [4, 'ok', 'write', 2],
      [3, 'invoke', 'read', null],
      [3, 'ok', 'read', 1],
    ]),
    undefined,
    'a repeated value is left to the search',
  );
});

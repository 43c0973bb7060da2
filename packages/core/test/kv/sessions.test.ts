import t from 'tap';
import { SessionTable } from '../../src/kv/sessions.js';

const s = (clientId: string, seq: number) => ({ clientId, seq });
const ok = { type: 'ok', value: null } as const;

t.test('check: unknown → session-expired; new seq → apply; same seq → cached; lower → stale', (t) => {
  const table = new SessionTable(4, 1000);
  t.strictSame(table.check(s('a', 1), 0), { type: 'session-expired' });
  table.open('a', 0);
  t.equal(table.check(s('a', 1), 0), null);
  table.complete(s('a', 1), ok, 0);
  t.strictSame(table.check(s('a', 1), 0), ok);
  t.equal(table.check(s('a', 5), 0), null);
  table.complete(s('a', 5), { type: 'ok', value: 'x' }, 0);
  t.strictSame(table.check(s('a', 4), 0), { type: 'stale-seq', lastSeq: 5 });
  t.end();
});

t.test('complete without a preceding check that returned null is a programmer error', (t) => {
  const table = new SessionTable(4, 1000);
  t.throws(() => table.complete(s('a', 1), ok, 0), { name: 'AssertionError' });
  table.open('a', 0);
  table.complete(s('a', 2), ok, 0);
  t.throws(() => table.complete(s('a', 2), ok, 0), { name: 'AssertionError' });
  t.throws(() => table.open('a', 0), { name: 'AssertionError', message: /already open/ });
  t.end();
});

t.test('expire drops exactly the sessions idle longer than sessionIdleMsMax, oldest first', (t) => {
  const table = new SessionTable(10, 100);
  table.open('a', 0);
  table.open('b', 50);
  table.open('c', 120);
  t.equal(table.expire(150), 1);
  t.strictSame(
    [...table.all()].map((r) => r.clientId),
    ['b', 'c'],
  );
  t.equal(table.expire(150), 0);
  t.equal(table.expire(221), 2);
  t.equal(table.size, 0);
  t.end();
});

t.test('using a session (even a duplicate or stale answer) makes it most recently used', (t) => {
  const table = new SessionTable(2, 1000);
  table.open('a', 0);
  table.open('b', 0);
  table.check(s('a', 1), 0);
  table.complete(s('a', 1), ok, 0);
  table.open('c', 0);
  t.strictSame(
    [...table.all()].map((r) => r.clientId),
    ['a', 'c'],
    'b evicted',
  );
  table.check(s('a', 1), 0); // duplicate: touches a
  table.open('d', 0);
  t.strictSame(
    [...table.all()].map((r) => r.clientId),
    ['a', 'd'],
    'c evicted',
  );
  t.end();
});

t.test('limits are checked', (t) => {
  t.throws(() => new SessionTable(0, 1), /sessionsMax/);
  t.throws(() => new SessionTable(1, -1), /sessionIdleMsMax/);
  t.end();
});

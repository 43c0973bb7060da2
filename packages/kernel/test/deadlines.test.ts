import t from 'tap';
import { DeadlineQueue, type Expiring } from '../src/deadlines.js';

interface Item extends Expiring {
  readonly id: number;
}

const item = (id: number, deadlineTick: number): Item => ({ id, deadlineTick, settled: false });

t.test('an answered request leaves the queue long before its deadline', (t) => {
  const queue = new DeadlineQueue<Item>();
  let largest = 0;
  for (let i = 0; i < 100_000; i++) {
    const it = item(i, 1_000 + i);
    queue.push(it);
    it.settled = true; // answered within the same tick, as most requests at a busy leader
    largest = Math.max(largest, queue.size);
  }
  t.ok(largest <= 2, `at most the newest item and the one before it are kept (largest ${largest})`);
  t.end();
});

t.test('an old request still waiting does not keep every answered one behind it', (t) => {
  const queue = new DeadlineQueue<Item>();
  const stuck = item(-1, 500);
  queue.push(stuck);
  let largest = 0;
  for (let i = 0; i < 100_000; i++) {
    const it = item(i, 500 + i);
    queue.push(it);
    it.settled = true;
    largest = Math.max(largest, queue.size);
  }
  t.ok(largest <= 1024, `bounded by the cleaning, not by the answered requests (largest ${largest})`);
  const expired: number[] = [];
  queue.sweep(500, (x) => expired.push(x.id));
  t.same(expired, [-1], 'the waiting one still times out at its deadline');
  t.equal(queue.size, 0, 'and nothing is left');
  t.end();
});

t.test('with answered and waiting requests mixed, the sweep expires exactly the waiting ones due, in order', (t) => {
  const queue = new DeadlineQueue<Item>();
  const all: Item[] = [];
  for (let i = 0; i < 5_000; i++) {
    const it = item(i, i);
    all.push(it);
    queue.push(it);
    if (i % 7 !== 0) it.settled = true; // every seventh still waits
  }
  t.ok(queue.size < 5_000 / 7 + 1_100, `answered ones were dropped as it grew (size ${queue.size})`);
  const expired: number[] = [];
  queue.sweep(2_999, (x) => expired.push(x.id));
  t.same(
    expired,
    all.filter((x) => x.id <= 2_999 && x.id % 7 === 0).map((x) => x.id),
    'due and waiting, in deadline order',
  );
  t.same(
    queue.unsettled().map((x) => x.id),
    all.filter((x) => x.id > 2_999 && x.id % 7 === 0).map((x) => x.id),
    'the rest still wait',
  );
  t.end();
});

t.test('deadlines must not go backwards', (t) => {
  const queue = new DeadlineQueue<Item>();
  queue.push(item(1, 10));
  t.throws(() => queue.push(item(2, 9)), RangeError);
  t.end();
});

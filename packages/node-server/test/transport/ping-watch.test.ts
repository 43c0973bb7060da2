import t from 'tap';
import { PING_PERIODS_EXCUSED_MAX, PingWatch } from '../../src/transport/ping-watch.js';

t.test('a pong each period keeps a link alive; a missed one kills an idle link', async (t) => {
  const w = new PingWatch(0);
  t.equal(w.period(0, 0), 'ping');
  w.pong();
  t.equal(w.period(0, 0), 'ping');
  t.equal(w.period(0, 0), 'dead', 'no pong, nothing was ahead of the ping');
});

t.test('a late pong is excused while the bytes ahead of the ping keep moving (a slow snapshot), then not', async (t) => {
  const w = new PingWatch(0);
  t.equal(w.period(16 << 20, 0), 'ping', 'the ping goes out behind 16 MiB');
  let flushed = 0;
  for (let i = 0; i < 5; i++) t.equal(w.period(16 << 20, (flushed += 1 << 20)), 'wait', `period ${i}: a MiB more taken in`);
  t.equal(w.excusedPeriods, 5);
  t.equal(w.period(16 << 20, flushed), 'dead', 'a period in which nothing moved');
});

t.test('small messages flowing to a peer that stopped reading are no excuse', async (t) => {
  const w = new PingWatch(0);
  t.equal(w.period(0, 0), 'ping', 'nothing waiting when the ping went out');
  t.equal(w.period(0, 500), 'dead', 'bytes taken by the kernel since do not count');
});

t.test('no excuse lasts more than the bound; a pong resets it', async (t) => {
  const w = new PingWatch(0);
  let flushed = 0;
  t.equal(w.period(1, flushed), 'ping');
  for (let i = 0; i < PING_PERIODS_EXCUSED_MAX; i++) t.equal(w.period(1, ++flushed), 'wait');
  t.equal(w.period(1, flushed + 1), 'dead', `after ${PING_PERIODS_EXCUSED_MAX} excused periods`);
  const again = new PingWatch(0);
  t.equal(again.period(1, 0), 'ping');
  t.equal(again.period(1, 1), 'wait');
  again.pong();
  t.equal(again.excusedPeriods, 0);
  t.equal(again.period(0, 1), 'ping', 'answered: the next period pings again');
});

import t from 'tap';
import { VirtualClock } from '../src/clock.js';

function ticks(clock: VirtualClock, id: number, ms: number): number {
  let n = 0;
  for (let i = 0; i < ms; i++) if (clock.advance(id)) n++;
  return n;
}

t.test('nodes tick every tickMs, drift when their period changes, and stall at 0', async (t) => {
  const clock = new VirtualClock([1, 2], 10);
  t.equal(ticks(clock, 1, 100), 10);
  clock.setPeriod(2, 40);
  t.equal(ticks(clock, 2, 100), 2, 'a slow clock');
  clock.setPeriod(1, 0);
  t.equal(ticks(clock, 1, 100), 0, 'a stalled clock');
  clock.resetPeriod(1);
  t.equal(ticks(clock, 1, 100), 10);
  t.equal(clock.local(1), 200, 'local time advances with ticks only');
});

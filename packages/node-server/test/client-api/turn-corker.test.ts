import t from 'tap';
import { TurnCorker, type Corkable } from '../../src/client-api/turn-corker.js';

function socket() {
  const calls: string[] = [];
  const s: Corkable & { calls: string[] } = { calls, cork: () => calls.push('cork'), uncork: () => calls.push('uncork') };
  return s;
}

const endOfTurn = () => new Promise((resolve) => setImmediate(resolve));
/** A continuation queued after the hold, as the other replies of one kernel pass are. */
const laterInRound = () => Promise.resolve();

t.test('each socket is corked once per round of microtasks and uncorked after it, so the writes of one round leave together', async (t) => {
  const corker = new TurnCorker();
  const a = socket();
  const b = socket();
  for (let i = 0; i < 5; i++) corker.hold(a);
  corker.hold(b);
  t.same(a.calls, ['cork'], 'five replies to one connection: corked once');
  t.same(b.calls, ['cork']);
  await endOfTurn();
  t.same(a.calls, ['cork', 'uncork'], 'released before the next turn');
  t.same(b.calls, ['cork', 'uncork']);
  corker.hold(a);
  t.same(a.calls, ['cork', 'uncork', 'cork'], 'the next round corks it again');
  await endOfTurn();
  t.same(a.calls, ['cork', 'uncork', 'cork', 'uncork']);
});

t.test('replies queued in the same round as the first are held with it', async (t) => {
  const corker = new TurnCorker();
  const a = socket();
  // Two continuations queued before the first hold runs, as a kernel pass queues its replies.
  const first = laterInRound().then(() => corker.hold(a));
  const second = laterInRound().then(() => {
    corker.hold(a);
    a.calls.push('write');
  });
  await Promise.all([first, second]);
  t.same(a.calls, ['cork', 'write', 'uncork'], 'the second write went out while corked, then both were released');
});

t.test('release() lets everything held go at once', async (t) => {
  const corker = new TurnCorker();
  const a = socket();
  corker.hold(a);
  corker.release();
  t.same(a.calls, ['cork', 'uncork']);
  await endOfTurn();
  t.same(a.calls, ['cork', 'uncork'], 'nothing is uncorked twice');
});

t.test('a socket whose uncork throws does not keep the others, or later turns, corked', async (t) => {
  const corker = new TurnCorker();
  const broken: Corkable = {
    cork: () => {},
    uncork: () => {
      throw new Error('socket torn down');
    },
  };
  const a = socket();
  corker.hold(broken);
  corker.hold(a);
  await endOfTurn();
  t.same(a.calls, ['cork', 'uncork'], 'the other socket was released');
  corker.hold(a);
  await endOfTurn();
  t.same(a.calls, ['cork', 'uncork', 'cork', 'uncork'], 'and the next round corks and releases again');
});

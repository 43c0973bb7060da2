import t from 'tap';
// From dist: the worker is dist/check-worker.js, next to dist/check.js.
import { checkHistory, historyFromEvents } from '../dist/index.js';
import { simulate, toEvents } from '../dist/generate.js';
import { inject } from '../dist/inject.js';
import { seededRng } from '@kvapp/core';

// Worker threads run the built dist/check-worker.js (npm test builds first); the result must not
// depend on how keys are shared between threads.
t.test('two threads give the same verdicts as one', async (t) => {
  const ops = simulate({ rng: seededRng(5), clients: 10, keys: 20, ops: 24_000 });
  t.ok(inject(ops, 'lost-write', seededRng(5), 0.5) >= 0);
  const history = historyFromEvents(toEvents(ops));
  const one = await checkHistory(history, { threads: 1 });
  const two = await checkHistory(history, { threads: 2 });
  t.equal(one.valid, false);
  t.equal(two.valid, false);
  t.same([...two.failedKeys].sort(), [...one.failedKeys].sort());
  t.equal(two.perKey.length, 20);
  t.ok(two.perKey.some((k) => k.worker) && two.perKey.some((k) => !k.worker), 'keys were shared between this thread and a worker');
  t.same(two.perKey.map((k) => k.valid).sort(), one.perKey.map((k) => k.valid).sort());
});

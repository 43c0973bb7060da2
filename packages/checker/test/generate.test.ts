import t from 'tap';
import { checkHistorySync } from '../src/check.js';
import { simulate, toEvents } from '../src/generate.js';
import { inject, type Anomaly } from '../src/inject.js';
import { historyFromEvents } from '../src/read-history.js';
import { seededRng } from '@kvapp/core';

const anomalies: Anomaly[] = ['stale-read', 'lost-write', 'impossible-cas'];
/**
 * The searches below need at most ~11,000 steps per key. A step budget, unlike a time budget,
 * decides the same on a loaded machine: running out of it is a failure, never a slow machine.
 */
const searchStepsMax = 1_000_000;

t.test('generated histories are valid, and stay valid for the plain search', async (t) => {
  for (let seed = 1; seed <= 12; seed++) {
    const shape = { clients: 1 + (seed % 6) * 2, keys: 1 + (seed % 3), ops: 300 };
    const h = historyFromEvents(toEvents(simulate({ rng: seededRng(seed), ...shape })));
    const r = checkHistorySync(h);
    t.equal(r.valid, true, `seed ${seed}: ${JSON.stringify(shape)}`);
    t.equal(r.ops, 300);
  }
  for (let seed = 1; seed <= 6; seed++) {
    const h = historyFromEvents(toEvents(simulate({ rng: seededRng(seed), clients: 4, keys: 1, ops: 120, infoRate: 0.05 })));
    t.equal(checkHistorySync(h, { reduce: false }).valid, true, `plain, seed ${seed}`);
  }
});

t.test('one injected anomaly makes a history invalid, and the plain search agrees', async (t) => {
  for (const anomaly of anomalies) {
    for (let seed = 1; seed <= 6; seed++) {
      const ops = simulate({ rng: seededRng(seed), clients: 4, keys: 1, ops: 150, infoRate: 0.03 });
      const at = inject(ops, anomaly, seededRng(seed), 0.5);
      t.ok(at >= 0, `${anomaly} seed ${seed}: a place was found`);
      const h = historyFromEvents(toEvents(ops));
      const fast = checkHistorySync(h);
      t.equal(fast.valid, false, `${anomaly} seed ${seed}`);
      t.equal(checkHistorySync(h, { reduce: false, searchStepsMax }).valid, false, `${anomaly} seed ${seed}, plain search`);
      t.ok(fast.witnesses[0]!.prefix.length > 0, 'the witness has a prefix');
    }
  }
});

t.test('late anomalies in a long one-key history behind a dozen indeterminate writes', async (t) => {
  for (const anomaly of anomalies) {
    for (const clients of [5, 50]) {
      const seed = clients + anomaly.length;
      const ops = simulate({ rng: seededRng(seed), clients, keys: 1, ops: 5000, stallWrites: { afterShare: 0.85, count: 12 } });
      t.equal(ops.filter((o) => o.end === null && o.f === 'write').length >= 12, true, 'twelve writes never return');
      t.equal(checkHistorySync(historyFromEvents(toEvents(ops))).valid, true, `${anomaly}, ${clients} clients, before injection`);
      t.ok(inject(ops, anomaly, seededRng(seed), 0.95) >= 0, 'a place was found late');
      const r = checkHistorySync(historyFromEvents(toEvents(ops)), { searchStepsMax });
      t.equal(r.valid, false, `${anomaly}, ${clients} clients`);
      t.same(r.failedKeys, ['k0']);
    }
  }
});

t.test('the generator is deterministic for a seed', async (t) => {
  const a = toEvents(simulate({ rng: seededRng(7), clients: 5, keys: 3, ops: 200 }));
  const b = toEvents(simulate({ rng: seededRng(7), clients: 5, keys: 3, ops: 200 }));
  const c = toEvents(simulate({ rng: seededRng(8), clients: 5, keys: 3, ops: 200 }));
  t.same(a, b);
  t.not(JSON.stringify(a), JSON.stringify(c));
  const values = a
    .filter((e) => e['type'] === 'invoke' && e['f'] !== 'read')
    .map((e) => (e['f'] === 'write' ? e['value'] : (e['value'] as unknown[])[1]));
  t.equal(new Set(values).size, values.length, 'written values are unique');
});

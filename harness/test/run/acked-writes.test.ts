import t from 'tap';
import fc from 'fast-check';
import { checkHistory, historyFromEvents, type HistoryEvent } from '@kvapp/checker';
import { checkAckedWrites as checkOperations, type AckedWritesResult } from '../../src/run/acked-writes.js';

/** The check on raw events, paired by the checker's reader as the run does. */
type CheckEvent = Omit<HistoryEvent, 'value'> & { readonly value: unknown };
const checkAckedWrites = (events: readonly CheckEvent[], finals: ReadonlySet<number>): AckedWritesResult =>
  checkOperations(historyFromEvents(events).operations, finals);

type V = string | null;

interface SimOp {
  process: number;
  key: string;
  f: 'read' | 'write' | 'cas' | 'delete';
  input: V | [V, string];
  start: number;
  lin: number;
  /** null: never returns */
  end: number | null;
  status: 'ok' | 'fail' | 'info';
  /** info only: whether it took effect at `lin` */
  effective: boolean;
  output: V;
}

interface Plan {
  clients: number;
  keys: number;
  steps: {
    client: number;
    key: number;
    f: 0 | 1 | 2 | 3;
    think: number;
    d1: number;
    d2: number;
    info: boolean;
    effective: boolean;
    returns: boolean;
    pick: number;
  }[];
}

const planArb: fc.Arbitrary<Plan> = fc.record({
  clients: fc.integer({ min: 1, max: 4 }),
  keys: fc.integer({ min: 1, max: 3 }),
  steps: fc.array(
    fc.record({
      client: fc.nat(3),
      key: fc.nat(2),
      f: fc.constantFrom<0 | 1 | 2 | 3>(0, 1, 2, 0, 1, 2, 3),
      think: fc.integer({ min: 0, max: 20 }),
      d1: fc.integer({ min: 1, max: 30 }),
      d2: fc.integer({ min: 1, max: 30 }),
      info: fc.boolean(), // made rarer in simulate()
      effective: fc.boolean(),
      returns: fc.boolean(),
      pick: fc.nat(1000),
    }),
    { minLength: 1, maxLength: 40 },
  ),
});

/**
 * A linearizable history by construction: each operation takes effect at an instant inside its
 * interval (an info operation maybe never), outputs come from applying them in that order.
 * Values are unique per key. Then one final read per key, after everything, by a final process.
 */
function simulate(plan: Plan): { events: CheckEvent[]; finals: Set<number>; finalIndex: Map<string, number> } {
  const free = new Array<number>(plan.clients).fill(0);
  const proc = Array.from({ length: plan.clients }, (_, i) => i);
  let nextProcess = plan.clients;
  const written = new Map<string, string[]>();
  const ops: SimOp[] = [];
  plan.steps.forEach((s, n) => {
    const c = s.client % plan.clients;
    const key = `k${s.key % plan.keys}`;
    const start = free[c]! + s.think + 1;
    const lin = start + s.d1;
    const info = s.info && s.pick % 5 === 0;
    const end = info && !s.returns ? null : lin + s.d2;
    const f = (['read', 'write', 'cas', 'delete'] as const)[s.f];
    const seen = written.get(key) ?? [];
    const value = `v${n}`;
    let input: SimOp['input'] = null;
    if (f === 'write') input = value;
    if (f === 'cas') input = [s.pick % (seen.length + 1) === seen.length ? null : seen[s.pick % (seen.length + 1)]!, value];
    if (f === 'write' || f === 'cas') written.set(key, [...seen, value]);
    ops.push({
      process: proc[c]!,
      key,
      f,
      input,
      start,
      lin,
      end,
      status: info ? 'info' : 'ok',
      effective: !info || s.effective,
      output: null,
    });
    if (info) proc[c] = nextProcess++;
    free[c] = end ?? lin + s.d2;
  });
  const state = new Map<string, V>();
  for (const op of [...ops].sort((a, b) => a.lin - b.lin)) {
    const cur = state.get(op.key) ?? null;
    if (op.f === 'read') op.output = cur;
    else if (op.f === 'write') {
      if (op.effective) state.set(op.key, op.input as string);
    } else if (op.f === 'delete') {
      if (op.effective) state.set(op.key, null);
    } else {
      const [expected, next] = op.input as [V, string];
      if (expected !== cur) {
        if (op.status === 'ok') op.status = 'fail';
      } else if (op.effective) state.set(op.key, next);
    }
  }
  const raw: { time: number; seq: number; e: CheckEvent }[] = [];
  let seq = 0;
  for (const op of ops) {
    raw.push({
      time: op.start,
      seq: seq++,
      e: { process: op.process, type: 'invoke', f: op.f, key: op.key, value: op.input, time: op.start },
    });
    if (op.end === null) continue;
    const value = op.f === 'read' ? op.output : op.input;
    raw.push({
      time: op.end,
      seq: seq++,
      e: {
        process: op.process,
        type: op.status,
        f: op.f,
        key: op.key,
        value,
        time: op.end,
        ...(op.status === 'fail' ? { error: 'cas-mismatch' } : {}),
      } as CheckEvent,
    });
  }
  raw.sort((a, b) => a.time - b.time || a.seq - b.seq);
  const events = raw.map((r) => r.e);
  let time = Math.max(0, ...ops.map((o) => Math.max(o.lin, o.end ?? 0))) + 1;
  const finalProcess = nextProcess;
  const finalIndex = new Map<string, number>();
  for (let k = 0; k < plan.keys; k++) {
    const key = `k${k}`;
    events.push({ process: finalProcess, type: 'invoke', f: 'read', key, value: null, time: time++ });
    finalIndex.set(key, events.length);
    events.push({ process: finalProcess, type: 'ok', f: 'read', key, value: state.get(key) ?? null, time: time++ });
  }
  return { events: events.map((e, index) => ({ ...e, index })), finals: new Set([finalProcess]), finalIndex };
}

const seed = process.env['FC_SEED'] === undefined ? Date.now() % 2 ** 31 : Number(process.env['FC_SEED']);

t.test('on linearizable generated histories no acknowledged write is lost', async (t) => {
  let failure: unknown = null;
  let checked = 0;
  try {
    await fc.assert(
      fc.asyncProperty(planArb, async (plan) => {
        const { events, finals } = simulate(plan);
        const verdict = await checkHistory(events, { threads: 1 });
        if (verdict.valid !== true) throw new Error(`generator produced a non-linearizable history (${String(verdict.valid)})`);
        const r = checkAckedWrites(events, finals);
        checked += r.checked;
        if (r.lost !== 0) throw new Error(`flagged ${r.lost} lost writes on a valid history: ${JSON.stringify(r.lostWrites)}`);
      }),
      { seed, numRuns: 300 },
    );
  } catch (err) {
    failure = err;
  }
  t.equal(failure, null, `property holds (fast-check seed ${seed}; rerun with FC_SEED=${seed})`);
  t.ok(checked > 100, `enough acknowledged writes were checked (${checked})`);
});

t.test('whatever the final read says, a lost write is only reported when the checker also rejects the history', async (t) => {
  let failure: unknown = null;
  let flagged = 0;
  try {
    await fc.assert(
      fc.asyncProperty(planArb, fc.nat(1000), fc.nat(1000), async (plan, whichKey, whichValue) => {
        const { events, finals, finalIndex } = simulate(plan);
        const key = `k${whichKey % plan.keys}`;
        const values = [
          null,
          ...new Set(
            events
              .filter((e) => e.key === key && (e.f === 'write' || e.f === 'cas') && e.type === 'invoke')
              .map((e) => (e.f === 'write' ? e.value : (e.value as [V, string])[1]) as string),
          ),
        ];
        const at = finalIndex.get(key)!;
        const mutated = events.map((e, i) => (i === at ? { ...e, value: values[whichValue % values.length]! } : e));
        const r = checkAckedWrites(mutated, finals);
        if (r.lost === 0) return;
        flagged += 1;
        const verdict = await checkHistory(mutated, { threads: 1 });
        if (verdict.valid !== false)
          throw new Error(`lost ${r.lost} writes but the checker says ${String(verdict.valid)}: ${JSON.stringify(r.lostWrites)}`);
      }),
      { seed: seed + 1, numRuns: 300 },
    );
  } catch (err) {
    failure = err;
  }
  t.equal(failure, null, `property holds (fast-check seed ${seed + 1}; rerun with FC_SEED=${seed})`);
  t.ok(flagged > 10, `the mutations produced lost writes to compare (${flagged})`);
});

const inv = (process: number, f: CheckEvent['f'], key: string, value: unknown, time: number): CheckEvent => ({
  process,
  type: 'invoke',
  f,
  key,
  value,
  time,
});
const ok = (process: number, f: CheckEvent['f'], key: string, value: unknown, time: number): CheckEvent => ({
  process,
  type: 'ok',
  f,
  key,
  value,
  time,
});

t.test('examples', async (t) => {
  const finals = new Set([9]);
  // a then b, sequential; the final read sees a: b is lost
  const lost = [
    inv(0, 'write', 'k', 'a', 1),
    ok(0, 'write', 'k', 'a', 2),
    inv(0, 'write', 'k', 'b', 3),
    ok(0, 'write', 'k', 'b', 4),
    inv(9, 'read', 'k', null, 5),
    ok(9, 'read', 'k', 'a', 6),
  ];
  const r1 = checkAckedWrites(lost, finals);
  t.same({ checked: r1.checked, lost: r1.lost, lostKeys: r1.lostKeys }, { checked: 2, lost: 1, lostKeys: ['k'] });
  t.same(r1.lostWrites, [{ key: 'k', value: 'b', final: 'a' }]);
  // the same but a and b overlap: either may be last, nothing is lost
  const overlap = [
    inv(0, 'write', 'k', 'a', 1),
    inv(1, 'write', 'k', 'b', 2),
    ok(0, 'write', 'k', 'a', 3),
    ok(1, 'write', 'k', 'b', 4),
    inv(9, 'read', 'k', null, 5),
    ok(9, 'read', 'k', 'a', 6),
  ];
  t.equal(checkAckedWrites(overlap, finals).lost, 0);
  // an info write of c may land any time later: it covers b
  const info = [
    inv(2, 'write', 'k', 'c', 0),
    { ...inv(2, 'write', 'k', 'c', 0), type: 'info' as const, time: 1 },
    ...lost.slice(0, 5),
    ok(9, 'read', 'k', 'c', 6),
  ];
  t.equal(checkAckedWrites(info, finals).lost, 0);
  // absent at the end although a write was acknowledged: lost; a failed cas writer covers nothing
  const absent = [inv(0, 'write', 'k', 'a', 1), ok(0, 'write', 'k', 'a', 2), inv(9, 'read', 'k', null, 5), ok(9, 'read', 'k', null, 6)];
  t.equal(checkAckedWrites(absent, finals).lost, 1);
  const failedCas = [
    inv(1, 'cas', 'k', ['x', 'c'], 0),
    { ...inv(1, 'cas', 'k', ['x', 'c'], 0), type: 'fail' as const, time: 10 },
    ...lost.slice(0, 5),
    ok(9, 'read', 'k', 'c', 11),
  ];
  t.equal(checkAckedWrites(failedCas, finals).lost, 2, 'a value only a failed cas wrote covers no write');
  // no final read for a key: nothing checked there
  t.same(checkAckedWrites(lost.slice(0, 4), finals).checked, 0);
});

t.test('an acknowledged delete means absent', async (t) => {
  const finals = new Set([9]);
  const w = [inv(0, 'write', 'k', 'a', 1), ok(0, 'write', 'k', 'a', 2)];
  const del = [inv(1, 'delete', 'k', null, 3), ok(1, 'delete', 'k', null, 4)];
  const read = (value: unknown): CheckEvent[] => [inv(9, 'read', 'k', null, 5), ok(9, 'read', 'k', value, 6)];
  const r1 = checkAckedWrites([...w, ...del, ...read(null)], finals);
  t.same({ checked: r1.checked, lost: r1.lost }, { checked: 2, lost: 0 }, 'write, delete, final absent: the delete covers the write');
  const r2 = checkAckedWrites([...w, ...del, ...read('a')], finals);
  t.same(
    r2.lostWrites,
    [{ key: 'k', value: null, final: 'a' }],
    'a value written before an acknowledged delete comes back: the delete is lost',
  );
  const overlapping = [
    inv(0, 'write', 'k', 'a', 1),
    inv(1, 'delete', 'k', null, 2),
    ok(0, 'write', 'k', 'a', 3),
    ok(1, 'delete', 'k', null, 4),
  ];
  t.equal(checkAckedWrites([...overlapping, ...read('a')], finals).lost, 0, 'a concurrent write may come after the delete');
  t.equal(checkAckedWrites([...overlapping, ...read(null)], finals).lost, 0, 'or before it');
  const infoDelete = [inv(2, 'delete', 'k', null, 0), { ...inv(2, 'delete', 'k', null, 0), type: 'info' as const, time: 1 }];
  t.equal(checkAckedWrites([...infoDelete, ...w, ...read(null)], finals).lost, 0, 'an indeterminate delete may land after the write');
  const failedDelete = [inv(2, 'delete', 'k', null, 0), { ...inv(2, 'delete', 'k', null, 0), type: 'fail' as const, time: 1 }];
  t.equal(checkAckedWrites([...failedDelete, ...w, ...read(null)], finals).lost, 1, 'a failed delete covers nothing');
});

import t from 'tap';
import { readFileSync } from 'node:fs';
import { checkFile, checkHistory, checkHistorySync } from '../src/check.js';

/** A tiny history language: `p:invoke:f:value`, `p:ok:...`, one event per entry; key "k" unless given. */
function h(...lines: string[]): Record<string, unknown>[] {
  return lines.map((l, i) => {
    const [p, type, f, raw, extra] = l.split(' ');
    const value = raw === undefined ? null : (JSON.parse(raw) as unknown);
    const e: Record<string, unknown> = { process: Number(p), type, f, key: 'k', value, time: i * 10, index: i };
    if (extra) e['error'] = extra;
    return e;
  });
}

const verdict = (lines: string[]): boolean | 'unknown' => {
  const fast = checkHistorySync(h(...lines)).valid;
  const plain = checkHistorySync(h(...lines), { reduce: false }).valid;
  if (fast !== plain) throw new Error(`reductions disagree with the plain search: ${fast} vs ${plain}`);
  return fast;
};

t.test('classic traps', async (t) => {
  t.equal(
    verdict(['1 invoke write 1', '2 invoke write 2', '1 ok write 1', '2 ok write 2', '3 invoke read', '3 ok read 1']),
    true,
    'concurrent writes may land in either order',
  );
  t.equal(
    verdict(['1 invoke write 1', '1 ok write 1', '2 invoke write 2', '2 ok write 2', '3 invoke read', '3 ok read 1']),
    false,
    'sequential writes may not',
  );
  t.equal(verdict(['1 invoke write 1', '1 info write 1', '2 invoke read', '2 ok read 1']), true, 'a read may see an indeterminate write');
  t.equal(verdict(['1 invoke write 1', '2 invoke read', '2 ok read 1']), true, 'or one that never returned');
  t.equal(verdict(['2 invoke read', '2 ok read 1', '1 invoke write 1', '1 info write 1']), false, 'but not before it was invoked');
  t.equal(
    verdict(['1 invoke write 1', '1 info write 1', '2 invoke read', '2 ok read null']),
    true,
    'an indeterminate write may never happen',
  );
  t.equal(
    verdict(['1 invoke write 1', '1 info write 1', '2 invoke read', '2 ok read 1', '3 invoke read', '3 ok read null']),
    false,
    'but once seen, it happened',
  );
  t.equal(verdict(['1 invoke cas [null,5]', '1 ok cas [null,5]', '2 invoke read', '2 ok read 5']), true, 'cas on an absent key');
  t.equal(
    verdict(['0 invoke write 1', '0 ok write 1', '1 invoke cas [null,5]', '1 ok cas [null,5]']),
    false,
    'cas-if-absent on a present key',
  );
  t.equal(verdict(['1 invoke cas [null,5]', '1 fail cas [null,5] cas-mismatch']), false, 'a mismatch on the absent initial value');
  t.equal(
    verdict(['0 invoke write 1', '0 ok write 1', '1 invoke cas [1,2]', '1 fail cas [1,2] cas-mismatch']),
    false,
    'a failed cas proves the value was not 1, yet nothing else was written',
  );
  t.equal(
    verdict([
      '0 invoke write 1',
      '0 ok write 1',
      '3 invoke write 3',
      '1 invoke cas [1,2]',
      '1 fail cas [1,2] cas-mismatch',
      '3 ok write 3',
    ]),
    true,
    'unless a concurrent write explains it',
  );
  t.equal(
    verdict([
      '0 invoke write 1',
      '0 ok write 1',
      '3 invoke write 3',
      '3 info write 3',
      '1 invoke cas [1,2]',
      '1 fail cas [1,2] cas-mismatch',
      '2 invoke read',
      '2 ok read 1',
    ]),
    false,
    'an indeterminate write explains the mismatch only if it stays, and the read sees 1 again',
  );
  t.equal(verdict(['0 invoke write 1', '0 ok write 1', '1 invoke cas [1,2]', '1 fail cas [1,2] timeout']), true, 'other fails are ignored');
  t.equal(
    verdict(['0 invoke write 1', '0 ok write 1', '1 invoke cas [1,2]', '1 ok cas [1,2]', '2 invoke cas [1,3]', '2 ok cas [1,3]']),
    false,
    'two cas cannot both consume the same write',
  );
  t.equal(
    verdict([
      '0 invoke write 1',
      '0 ok write 1',
      '1 invoke write 1',
      '1 ok write 1',
      '2 invoke cas [1,3]',
      '2 ok cas [1,3]',
      '3 invoke cas [1,4]',
      '3 ok cas [1,4]',
      '4 invoke read',
      '4 ok read 4',
    ]),
    false,
    'repeated values: still one cas per write (this one needs 1 written again after 3)',
  );
  t.equal(
    verdict([
      '0 invoke write 1',
      '0 ok write 1',
      '2 invoke cas [1,3]',
      '2 ok cas [1,3]',
      '1 invoke write 1',
      '1 ok write 1',
      '3 invoke cas [1,4]',
      '3 ok cas [1,4]',
      '4 invoke read',
      '4 ok read 4',
    ]),
    true,
    'repeated values: a second write of 1 lets a second cas succeed',
  );
});

t.test('keys are independent; the witness names the key and the operation', async (t) => {
  const events = [
    ...h('1 invoke write 1', '1 ok write 1', '2 invoke read', '2 ok read 1'),
    ...h('3 invoke write 7', '3 ok write 7', '4 invoke write 8', '4 ok write 8', '5 invoke read', '5 ok read 7').map((e) => ({
      ...e,
      key: 'other',
    })),
  ].map((e, i) => ({ ...e, index: i, time: i }));
  const r = await checkHistory(events);
  t.equal(r.valid, false);
  t.equal(r.keys, 2);
  t.equal(r.ops, 5);
  t.same(r.failedKeys, ['other']);
  const w = r.witnesses[0]!;
  t.equal(w.key, 'other');
  t.equal(w.blocked, 3, 'write 8 could not be placed: the read of 7 still needs 7');
  t.match(w.message, /read → 7 \(process 5, lines 9–10\) cannot be placed: value 7 had been overwritten/);
  t.match(w.message, /write 8 \(process 4, lines 7–8\) cannot be placed/);
  t.same(w.valuesAfter[w.valuesAfter.length - 1], w.valueBefore);
});

t.test('a timeout gives unknown, never a guess', async (t) => {
  // A long single-key history with repeated values and many writers keeps the plain search busy.
  const lines: string[] = [];
  for (let i = 0; i < 60; i++) lines.push(`${i} invoke write ${i % 3}`);
  for (let i = 0; i < 60; i++) lines.push(`${i} ok write ${i % 3}`);
  lines.push('100 invoke read', '100 ok read 7');
  const r = checkHistorySync(h(...lines), { reduce: false, timeoutMs: 200 });
  t.equal(r.valid, 'unknown');
  t.same(r.unknownKeys, ['k']);
});

t.test('a step budget gives unknown on the keys it cuts short, the same on every run', async (t) => {
  // The history of the timeout test, on two keys: 'k' needs a long search, 'easy' none.
  const lines: string[] = [];
  for (let i = 0; i < 60; i++) lines.push(`${i} invoke write ${i % 3}`);
  for (let i = 0; i < 60; i++) lines.push(`${i} ok write ${i % 3}`);
  lines.push('100 invoke read', '100 ok read 7');
  const easy = h('200 invoke write 1', '200 ok write 1', '201 invoke read', '201 ok read 1').map((e, i) => ({
    ...e,
    key: 'easy',
    index: 122 + i,
    time: 2000 + i,
  }));
  const events = [...h(...lines), ...easy];
  const a = checkHistorySync(events, { reduce: false, searchStepsMax: 50_000 });
  t.equal(a.valid, 'unknown');
  t.same(a.unknownKeys, ['k']);
  t.same(
    a.perKey.map((r) => [r.key, r.valid, r.steps]),
    [
      ['k', 'unknown', 50_000],
      ['easy', true, a.perKey[1]!.steps],
    ],
  );
  const b = await checkHistory(events, { reduce: false, searchStepsMax: 50_000 });
  t.same(
    b.perKey.map((r) => [r.key, r.valid, r.steps]),
    a.perKey.map((r) => [r.key, r.valid, r.steps]),
    'checkHistory agrees, step for step',
  );
});

t.test('every Jepsen etcd history gets its known verdict', async (t) => {
  const dir = new URL('./fixtures/jepsen-etcd/', import.meta.url);
  const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as Record<string, boolean>;
  const names = Object.keys(expected);
  t.equal(names.length, 102);
  // The default, the memo search without its first pass, and the plain search without reductions.
  for (const mode of [{}, { firstPassStepsMax: 0 }, { reduce: false }]) {
    let agreed = 0;
    const wrong: string[] = [];
    for (const name of names) {
      const r = await checkFile(new URL(name, dir).pathname, mode);
      if (r.valid === expected[name]) agreed++;
      else wrong.push(`${name}: ${String(r.valid)}`);
      if (r.valid === false) {
        const w = r.witnesses[0]!;
        if (w.blocked === null || w.prefix.length === 0) wrong.push(`${name}: empty witness`);
      }
    }
    t.same(wrong, [], JSON.stringify(mode));
    t.equal(agreed, 102, JSON.stringify(mode));
  }
});

t.test('a witness never blames an operation for a value it would accept', async (t) => {
  // write 5, read 5, then cas 5→"x" (ok) and a later read of 5: the cas can be placed after the
  // prefix; what fails is the read after it.
  const r = checkHistorySync(
    h(
      '1 invoke write 5',
      '2 invoke read',
      '1 ok write 5',
      '2 ok read 5',
      '3 invoke cas [5,"x"]',
      '3 ok cas',
      '4 invoke read',
      '4 ok read 5',
    ),
  );
  t.equal(r.valid, false);
  const message = r.witnesses[0]!.message;
  t.notMatch(message, /succeeded, so the value was 5/, 'no contradiction with the value after the prefix');
  t.match(message, /could take effect here \(the value is 5\), but then some operation that must follow cannot be placed/);
});

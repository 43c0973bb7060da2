import t from 'tap';
import type { Entry } from '@kvapp/core';
import { Replay } from '../../src/wal/replay.js';

const e = (index: number, term = 1): Entry => ({ term, index, type: 'normal', data: Uint8Array.of(index) });
const ids = (es: Entry[]) => es.map((x) => `${x.index}@${x.term}`);

t.test('a later entry at or below the last index replaces the suffix', (t) => {
  const r = new Replay();
  for (let i = 1; i <= 5; i++) r.entry(e(i));
  r.entry(e(3, 2));
  r.entry(e(4, 2));
  t.strictSame(ids(r.finish('d').entries), ['1@1', '2@1', '3@2', '4@2']);
  t.end();
});

t.test('a marker that matches the log keeps the suffix after it', (t) => {
  const r = new Replay();
  for (let i = 1; i <= 5; i++) r.entry(e(i));
  r.marker({ index: 3, term: 1 });
  const out = r.finish('d');
  t.strictSame(ids(out.entries), ['4@1', '5@1']);
  t.strictSame(out.snapshotMarker, { index: 3, term: 1 });
  t.end();
});

t.test('a marker that conflicts with the log, or lies past it, drops the whole log', (t) => {
  const a = new Replay();
  for (let i = 1; i <= 5; i++) a.entry(e(i));
  a.marker({ index: 3, term: 9 });
  t.strictSame(a.finish('d').entries, []);
  const b = new Replay();
  for (let i = 1; i <= 5; i++) b.entry(e(i));
  b.marker({ index: 8, term: 2 });
  b.entry(e(9, 2));
  t.strictSame(ids(b.finish('d').entries), ['9@2']);
  t.end();
});

t.test('an older marker after a newer one is ignored; the last hard state wins', (t) => {
  const r = new Replay();
  r.marker({ index: 5, term: 1 });
  r.marker({ index: 2, term: 1 });
  r.hardState({ term: 1, vote: 1, commit: 0 });
  r.hardState({ term: 2, vote: 3, commit: 0 });
  const out = r.finish('d');
  t.strictSame(out.snapshotMarker, { index: 5, term: 1 });
  t.strictSame(out.hardState, { term: 2, vote: 3, commit: 0 });
  t.end();
});

t.test('a hole is fine when a later marker covers it, WAL_INCONSISTENT when not', (t) => {
  const ok = new Replay();
  ok.marker({ index: 2, term: 1 }); // stale copy at the head of a segment
  for (let i = 6; i <= 9; i++) ok.entry(e(i));
  ok.marker({ index: 7, term: 1 });
  t.strictSame(ids(ok.finish('d').entries), ['8@1', '9@1']);
  const bad = new Replay();
  bad.marker({ index: 2, term: 1 });
  for (let i = 6; i <= 9; i++) bad.entry(e(i));
  t.throws(() => bad.finish('/data/x'), { code: 'WAL_INCONSISTENT', message: /\/data\/x.*index 6.*up to 2/ });
  t.end();
});

import t from 'tap';
import fc from 'fast-check';
import { mkdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import type { Entry, HardState } from '@kvapp/core';
import { Wal } from '../../src/wal/wal.js';
import { SEGMENT_HEADER_BYTES, segmentName } from '../../src/wal/segment.js';
import { FRAME_HEADER_BYTES } from '../../src/wal/record.js';
import { checkProperty } from './property.js';
import { tmpDir } from './tmp-dir.js';

/**
 * A crash can stop the disk at any byte. Whatever byte the last segment ends at, the WAL must
 * recover exactly the records wholly before it (a prefix of what was saved, in save order),
 * cutting the rest.
 */

interface SaveOp {
  readonly hardState: HardState | null;
  readonly entries: Entry[];
}

type Rec = { kind: 'hs'; hs: HardState; end: number } | { kind: 'entry'; e: Entry; end: number };

const opArb = fc.record({
  withHardState: fc.boolean(),
  back: fc.nat(3),
  count: fc.nat(3),
  dataBytes: fc.nat(20),
  vote: fc.nat(5),
});

/** Turns generated shapes into valid saves (overwrites included) with increasing terms. */
function buildSaves(shapes: Array<{ withHardState: boolean; back: number; count: number; dataBytes: number; vote: number }>): SaveOp[] {
  let last = 0;
  return shapes.map((s, i) => {
    const term = i + 1;
    const start = Math.max(1, last + 1 - s.back);
    const count = s.withHardState ? s.count : Math.max(1, s.count);
    const entries = Array.from({ length: count }, (_, k): Entry => ({
      term,
      index: start + k,
      type: 'normal',
      data: new Uint8Array(s.dataBytes).fill((start + k) & 0xff),
    }));
    if (count > 0) last = start + count - 1;
    return { hardState: s.withHardState ? { term, vote: s.vote, commit: 0 } : null, entries };
  });
}

/** Every record in file order, with the byte offset where it ends. */
function layout(saves: SaveOp[]): Rec[] {
  const recs: Rec[] = [];
  let at = SEGMENT_HEADER_BYTES;
  for (const s of saves) {
    if (s.hardState) recs.push({ kind: 'hs', hs: s.hardState, end: (at += FRAME_HEADER_BYTES + 24) });
    for (const e of s.entries) recs.push({ kind: 'entry', e, end: (at += FRAME_HEADER_BYTES + 17 + e.data.length) });
  }
  return recs;
}

/** The obvious model: replay records, a later entry replacing the suffix from its index. */
function model(recs: Rec[]): { hardState: HardState | null; entries: Entry[] } {
  let hardState: HardState | null = null;
  let entries: Entry[] = [];
  for (const r of recs) {
    if (r.kind === 'hs') hardState = r.hs;
    else entries = [...entries.filter((x) => x.index < r.e.index), r.e];
  }
  return { hardState, entries };
}

const plain = (es: Entry[]) => es.map((e) => ({ term: e.term, index: e.index, type: e.type, data: [...e.data] }));

t.test('property: any prefix cut of a WAL recovers to a prefix of what was saved', async (t) => {
  const root = tmpDir(t);
  let run = 0;
  await checkProperty(
    t,
    'any prefix cut of a WAL recovers to a prefix of what was saved',
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 8 }), fc.double({ min: 0, max: 1, noNaN: true }), async (shapes, where) => {
      const dir = join(root, String(run++));
      mkdirSync(dir);
      const saves = buildSaves(shapes);
      const { wal } = await Wal.open(dir);
      for (const s of saves) await wal.save(s.hardState, s.entries);
      await wal.close();
      const file = join(dir, segmentName(1));
      const recs = layout(saves);
      const size = statSync(file).size;
      if (size !== recs.at(-1)!.end) throw new Error(`layout mismatch: file ${size}, expected ${recs.at(-1)!.end}`);
      const cut = SEGMENT_HEADER_BYTES + Math.floor(where * (size - SEGMENT_HEADER_BYTES));
      truncateSync(file, cut);

      const reopened = await Wal.open(dir);
      await reopened.wal.close();
      const got = reopened.recovered;
      const kept = recs.filter((r) => r.end <= cut);
      const want = model(kept);
      const keptEnd = kept.at(-1)?.end ?? SEGMENT_HEADER_BYTES;
      if (JSON.stringify(got.hardState) !== JSON.stringify(want.hardState)) throw new Error('hard state differs');
      if (JSON.stringify(plain(got.entries)) !== JSON.stringify(plain(want.entries))) {
        throw new Error(`entries differ at cut ${cut}: got ${got.entries.map((e) => e.index)} want ${want.entries.map((e) => e.index)}`);
      }
      const wantCut = cut - keptEnd;
      const gotCut = got.truncatedTail?.bytes ?? 0;
      if (gotCut !== wantCut) throw new Error(`cut ${gotCut} bytes, expected ${wantCut}`);
      if (statSync(file).size !== keptEnd) throw new Error('segment not truncated to the last whole record');
      return true;
    }),
    { numRuns: 60 },
  );
});

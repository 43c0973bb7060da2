import t from 'tap';
import { lstatSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import type { Entry } from '@kvapp/core';
import { WalDurableLog } from '../../src/node/wal-log.js';
import type { SyncMethod } from '../../src/wal/segment-writer.js';
import { dirLines, installProbe, lastDurable, readJournal, type JournalLine } from './disk-probe-support.js';
import { tmpDir } from './tmp-dir.js';

/**
 * The journal is only worth something if a power cut applied from it keeps every acknowledged
 * save of a correct node and loses some of a node with a planted bug. This is the cut of
 * docs/disk-faults.md without the torn rest (the harness's own, with its PRNG, is tested there).
 */
function powerCut(dir: string, lines: JournalLine[]): void {
  const durable = dirLines(lines, dir).at(-1)?.entries ?? {};
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (!(name in durable)) {
      rmSync(path, { recursive: true, force: true });
    } else if (st.isDirectory()) {
      powerCut(path, lines);
    } else if (st.isFile()) {
      const keep = lastDurable(lines, st.ino) ?? 0;
      if (keep < st.size) truncateSync(path, keep);
    }
  }
}

const conf = { voters: [1], learners: [], votersOutgoing: [] };
const entry = (index: number): Entry => ({ index, term: 1, type: 'normal', data: new Uint8Array(40).fill(index & 0xff) });

interface Outcome {
  /** The last index a reopen finds, or the reason it refused to open. */
  readonly recovered: number | string;
  readonly acknowledged: number;
}

/** Saves entries 1..N (a snapshot every 10, small segments), cuts the power right after the last ack, reopens. */
async function runAndCut(
  t: { teardown(fn: () => unknown): unknown },
  options: { syncMethod?: SyncMethod; unsafeAckBeforeFsync?: boolean; unsafeSkipDirFsync?: boolean },
): Promise<Outcome> {
  const root = tmpDir(t);
  const journal = join(root, 'journal.jsonl');
  installProbe(t, { journal });
  const dataDir = join(root, 'data');
  const { log } = await WalDurableLog.open(dataDir, conf, { segmentBytesMax: 600, ...options });
  const last = 35;
  for (let i = 1; i <= last; i++) {
    await log.persist({ hardState: { term: 1, vote: 1, commit: i - 1 }, entries: [entry(i)], snapshot: null, mustSync: true });
    if (i % 10 === 0) await log.compact(i - 2, conf, new TextEncoder().encode(`state@${i - 2}`));
  }
  // The power goes the moment the last save was acknowledged: nothing after it reaches the disk.
  powerCut(dataDir, readJournal(journal));
  await log.close();
  try {
    const again = await WalDurableLog.open(dataDir, conf, { segmentBytesMax: 600 });
    const recovered = again.log.storage.lastIndex();
    await again.log.close();
    return { recovered, acknowledged: last };
  } catch (error) {
    return { recovered: String(error), acknowledged: last };
  }
}

for (const syncMethod of ['o-dsync', 'fdatasync'] as SyncMethod[]) {
  t.test(`a correct node (${syncMethod}) keeps every acknowledged save through a power cut`, async (t) => {
    const { recovered, acknowledged } = await runAndCut(t, { syncMethod });
    t.equal(recovered, acknowledged);
  });
}

t.test('--unsafe-ack-before-fsync loses acknowledged saves in a power cut', async (t) => {
  const { recovered, acknowledged } = await runAndCut(t, { unsafeAckBeforeFsync: true });
  t.ok(typeof recovered === 'string' || recovered < acknowledged, `recovered ${recovered} of ${acknowledged} acknowledged`);
});

t.test('--unsafe-skip-dir-fsync loses acknowledged saves in a power cut', async (t) => {
  const { recovered, acknowledged } = await runAndCut(t, { unsafeSkipDirFsync: true });
  t.ok(typeof recovered === 'string' || recovered < acknowledged, `recovered ${recovered} of ${acknowledged} acknowledged`);
});

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeId } from '@kvapp/core';
import { writeFileAtomic } from '../wal/atomic-file.js';
import { StartError } from './start-error.js';

export const BOOTSTRAP_FILE = 'bootstrap.json';

/**
 * The voters a data dir was first started with, kept in `<dataDir>/bootstrap.json`. Until its
 * first snapshot a node takes its voters from its configuration at every start; a node restarted
 * with fewer voters (no peers, say) could elect itself with a majority of that smaller set while
 * the real cluster has a leader of its own — two leaders. So a data dir remembers its voters and
 * refuses a configuration that names others. Peer addresses are not kept: they may change
 * (another host, a proxy) without changing who votes.
 */
export async function readBootstrapVoters(dataDir: string): Promise<NodeId[] | null> {
  const path = join(dataDir, BOOTSTRAP_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let voters: unknown;
  try {
    voters = (JSON.parse(text) as { voters?: unknown }).voters;
  } catch {
    voters = undefined;
  }
  if (!Array.isArray(voters) || voters.length === 0 || !voters.every((id) => Number.isSafeInteger(id) && (id as number) > 0)) {
    throw new Error(`${path} is damaged (it must hold {"voters": [ids]}); it is written whole or not at all, so something else changed it`);
  }
  return [...(voters as NodeId[])].sort((a, b) => a - b);
}

/** Refuses (BOOTSTRAP_MISMATCH) when the stored voters are not the configured ones. */
export function checkBootstrapVoters(dataDir: string, stored: readonly NodeId[], configured: readonly NodeId[]): void {
  const same = stored.length === configured.length && stored.every((id, i) => id === configured[i]);
  if (same) return;
  throw new StartError(
    'BOOTSTRAP_MISMATCH',
    `data dir ${dataDir} belongs to a cluster of voters ${stored.join(',')} but the configuration names voters ${configured.join(',')}; ` +
      'refusing to start, since a node with other voters could elect a second leader (name the same peers, or use a new data dir)',
    { dataDir, stored: [...stored], configured: [...configured] },
  );
}

/** Written whole or not at all (temp file, fsync, rename, directory fsync). */
export async function storeBootstrapVoters(dataDir: string, voters: readonly NodeId[]): Promise<void> {
  await writeFileAtomic(dataDir, BOOTSTRAP_FILE, Buffer.from(`${JSON.stringify({ version: 1, voters })}\n`));
}

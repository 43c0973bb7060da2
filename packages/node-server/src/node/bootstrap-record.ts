import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfState, MemberAddresses, NodeId } from '@kvapp/core';
import { writeFileAtomic } from '../wal/atomic-file.js';

export const BOOTSTRAP_FILE = 'bootstrap.json';

/**
 * How a data dir began, kept in `<dataDir>/bootstrap.json`: the configuration of the new cluster
 * it bootstrapped (or an empty one, for a node that joined a running cluster), and the addresses
 * known then. It is the base the log's conf-change entries apply to at every start: the peer
 * flags decide the voters only once, when the data dir is new, so a restart with other flags
 * cannot give a node other voters (two leaders). Members added later carry their addresses in
 * the log; the addresses here are the bootstrap members', which are in no entry.
 */
export interface BootstrapRecord {
  readonly conf: ConfState;
  readonly addresses: ReadonlyMap<NodeId, MemberAddresses>;
}

const isId = (id: unknown): id is NodeId => Number.isSafeInteger(id) && (id as number) > 0;
const isIdList = (v: unknown): v is NodeId[] => Array.isArray(v) && v.every(isId);

/** null for a new data dir; throws naming the file when it is damaged. */
export async function readBootstrapRecord(dataDir: string): Promise<BootstrapRecord | null> {
  const path = join(dataDir, BOOTSTRAP_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const record = parseRecord(text);
  if (record === null) {
    throw new Error(
      `${path} is damaged (see the node README, "How a data dir begins"); it is written whole or not at all, so something else changed it`,
    );
  }
  return record;
}

function parseRecord(text: string): BootstrapRecord | null {
  let x: Record<string, unknown>;
  try {
    x = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof x !== 'object' || x === null) return null;
  // Version 1 held the voters only.
  if (x['version'] === 1 || x['version'] === undefined) {
    const voters = x['voters'];
    if (!isIdList(voters) || voters.length === 0) return null;
    return { conf: { voters: sortIds(voters), learners: [], votersOutgoing: [] }, addresses: new Map() };
  }
  if (x['version'] !== 2) return null;
  const conf = x['conf'] as Record<string, unknown> | undefined;
  if (typeof conf !== 'object' || conf === null || !isIdList(conf['voters']) || !isIdList(conf['learners'])) return null;
  const addresses = new Map<NodeId, MemberAddresses>();
  const raw = x['addresses'];
  if (typeof raw !== 'object' || raw === null) return null;
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const id = Number(key);
    const a = value as Record<string, unknown> | null;
    if (!isId(id) || typeof a !== 'object' || a === null || typeof a['peer'] !== 'string' || typeof a['client'] !== 'string') return null;
    addresses.set(id, { peer: a['peer'], client: a['client'] });
  }
  return { conf: { voters: sortIds(conf['voters']), learners: sortIds(conf['learners']), votersOutgoing: [] }, addresses };
}

/** Written whole or not at all (temp file, fsync, rename, directory fsync). */
export async function storeBootstrapRecord(dataDir: string, record: BootstrapRecord): Promise<void> {
  const addresses = Object.fromEntries([...record.addresses].sort(([a], [b]) => a - b));
  const body = { version: 2, conf: { voters: record.conf.voters, learners: record.conf.learners }, addresses };
  await writeFileAtomic(dataDir, BOOTSTRAP_FILE, Buffer.from(`${JSON.stringify(body)}\n`));
}

function sortIds(ids: readonly NodeId[]): NodeId[] {
  return [...new Set(ids)].sort((a, b) => a - b);
}

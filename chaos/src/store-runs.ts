import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseNemesis, type NemesisLine } from '@kvapp/harness';

/** What the totals read of a run's results.json; every field optional, since a run may have died half way. */
export interface StoredResults {
  readonly scenario?: string;
  readonly seed?: number;
  readonly nodes?: number;
  readonly durationMs?: number;
  readonly verdict?: string;
  readonly expect?: string;
  readonly ops?: { readonly total?: number; readonly ok?: number; readonly fail?: number; readonly info?: number };
  readonly ackedWrites?: { readonly checked?: number; readonly lost?: number };
  readonly rssMb?: Readonly<Record<string, { readonly min: number; readonly max: number }>>;
  readonly error?: string;
}

/** One run folder of a store. */
export interface StoredRun {
  /** `<scenario>/<timestamp>`, relative to the store. */
  readonly name: string;
  readonly dir: string;
  /** null when results.json is missing (the harness died, or the run is still going) or unreadable. */
  readonly results: StoredResults | null;
  readonly nemesis: readonly NemesisLine[];
  /** What was wrong with the folder's files, if anything. */
  readonly problems: readonly string[];
}

/** The store cannot be read at all: one line for the user. */
export class StoreError extends Error {}

/** Run folders hold at least one of these; other folders under a scenario are not runs. */
const runFiles = ['results.json', 'history.jsonl', 'nemesis.jsonl'];

/**
 * Every run folder of a store (`<store>/<scenario>/<timestamp>/`, as runScenario makes them), by
 * scenario and then start time; `latest` and dot-folders are skipped. A damaged file is a problem
 * of its run, never a throw; a store that is not a readable directory is a StoreError.
 */
export function readStoreRuns(storeDir: string): StoredRun[] {
  if (!existsSync(storeDir)) throw new StoreError(`store ${storeDir} does not exist`);
  if (!statSync(storeDir).isDirectory()) throw new StoreError(`store ${storeDir} is not a directory`);
  const runs: StoredRun[] = [];
  for (const scenario of subdirs(storeDir)) {
    for (const run of subdirs(join(storeDir, scenario))) {
      const dir = join(storeDir, scenario, run);
      if (!runFiles.some((f) => existsSync(join(dir, f)))) continue;
      runs.push(readRun(`${scenario}/${run}`, dir));
    }
  }
  return runs;
}

/** Real directories (not symlinks such as `latest`), dot-names left out, sorted. */
function subdirs(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new StoreError(`cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

function readRun(name: string, dir: string): StoredRun {
  const problems: string[] = [];
  let results: StoredResults | null = null;
  const resultsPath = join(dir, 'results.json');
  if (!existsSync(resultsPath)) problems.push('no results.json (the run did not finish)');
  else {
    try {
      const parsed: unknown = JSON.parse(readFileSync(resultsPath, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) problems.push('results.json is not an object');
      else results = parsed as StoredResults;
    } catch (err) {
      problems.push(`results.json: ${(err as Error).message}`);
    }
  }
  const nemesisPath = join(dir, 'nemesis.jsonl');
  const nemesis = existsSync(nemesisPath) ? parseNemesis(readFileSync(nemesisPath, 'utf8'), problems) : [];
  return { name, dir, results, nemesis, problems };
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readHistoryFile, type History } from '@kvapp/checker';

/** One line of nemesis.jsonl as the report reads it. */
export interface NemesisLine {
  readonly time: number;
  readonly nemesis: string;
  readonly phase: 'start' | 'end';
  readonly detail: unknown;
}

/**
 * What the report uses of results.json (docs/chaos-contract.md, RunResult). Every field is
 * optional: a run that died early may have written part of it, or an older engine less of it.
 */
export interface RunResultsFile {
  readonly scenario?: string;
  readonly seed?: number;
  readonly nodes?: number;
  readonly startedAt?: string;
  readonly durationMs?: number;
  readonly verdict?: string;
  readonly expect?: string;
  readonly passed?: boolean;
  readonly checker?: {
    readonly valid?: boolean | 'unknown';
    readonly ops?: number;
    readonly keys?: number;
    readonly ms?: number;
    readonly failedKeys?: readonly string[];
  };
  readonly ackedWrites?: { readonly checked?: number; readonly lost?: number; readonly lostKeys?: readonly string[] };
  readonly availability?: readonly {
    readonly nemesis: string;
    readonly startS: number;
    readonly endS: number;
    readonly ops: number;
    readonly ok: number;
    readonly answered?: number;
    readonly share: number;
  }[];
  readonly latencyMs?: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  readonly faultNotes?: readonly string[];
  /** Each node's resident memory over the run, MB by node id. */
  readonly rssMb?: Readonly<
    Record<string, { readonly min: number; readonly max: number; readonly last?: number; readonly samples?: number }>
  >;
  readonly error?: string;
}

/** The files of one run folder. A missing or unreadable file is null plus a note, never a throw. */
export interface RunFiles {
  readonly dir: string;
  readonly history: History | null;
  readonly nemesis: readonly NemesisLine[];
  readonly results: RunResultsFile | null;
  /** Human-readable problems met while reading, shown at the top of the report. */
  readonly notes: readonly string[];
}

export async function readRunFiles(dir: string): Promise<RunFiles> {
  const notes: string[] = [];
  let history: History | null = null;
  try {
    history = await readHistoryFile(join(dir, 'history.jsonl'));
  } catch (err) {
    notes.push(`history.jsonl: ${(err as Error).message}`);
  }
  const nemesis = parseNemesis(await readText(join(dir, 'nemesis.jsonl'), notes), notes);
  let results: RunResultsFile | null = null;
  const resultsText = await readText(join(dir, 'results.json'), null);
  if (resultsText !== null) {
    try {
      results = JSON.parse(resultsText) as RunResultsFile;
    } catch (err) {
      notes.push(`results.json: ${(err as Error).message}`);
    }
  }
  return { dir, history, nemesis, results, notes };
}

/** Reads a file; a missing file is null (noted when `notes` is given). */
async function readText(path: string, notes: string[] | null): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    notes?.push(`${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return null;
  }
}

/** Lenient: a torn last line (the run was killed) or a stray line is skipped and counted. */
export function parseNemesis(text: string | null, notes: string[]): NemesisLine[] {
  if (text === null) return [];
  const lines: NemesisLine[] = [];
  let skipped = 0;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    try {
      const o = JSON.parse(raw) as Partial<NemesisLine>;
      if (typeof o.time !== 'number' || typeof o.nemesis !== 'string' || (o.phase !== 'start' && o.phase !== 'end')) {
        skipped++;
        continue;
      }
      lines.push({ time: o.time, nemesis: o.nemesis, phase: o.phase, detail: o.detail ?? null });
    } catch {
      skipped++;
    }
  }
  if (skipped > 0) notes.push(`nemesis.jsonl: ${skipped} unreadable line(s) skipped`);
  return lines;
}

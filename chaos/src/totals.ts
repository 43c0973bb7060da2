import { faultFamily, periodKills } from '@kvapp/harness';
import type { RssRange } from './rss-line.js';
import type { StoredRun } from './store-runs.js';

/** One run's share of the totals. */
export interface RunTally {
  readonly name: string;
  readonly scenario: string;
  readonly seed: number | null;
  readonly verdict: 'valid' | 'invalid' | 'unknown';
  readonly expect: 'valid' | 'invalid' | null;
  readonly durationS: number;
  /** Fault periods started, by the kind nemesis.jsonl logs them under (mix: the kind drawn). */
  readonly periods: Readonly<Record<string, number>>;
  /** kill -9 rounds (kills and crashes at failpoints, as Totals.killRounds counts them), by the kind of the period. */
  readonly kills: Readonly<Record<string, KindKills>>;
  readonly healErrors: number;
  readonly unterminated: number;
  readonly ops: { readonly total: number; readonly ok: number; readonly fail: number; readonly info: number };
  readonly ackedWrites: { readonly checked: number; readonly lost: number };
  readonly rssMb: Readonly<Record<string, RssRange>> | null;
  /** Why this run is an anomaly (empty: it is not). */
  readonly anomalies: readonly string[];
  /** Lesser problems of its files (e.g. a torn nemesis.jsonl line skipped). */
  readonly notes: readonly string[];
}

/** The kill -9s and failpoint crashes of one kind's periods. */
export interface KindKills {
  readonly kills: number;
  readonly crashes: number;
}

/** Counts of fault periods of one family, by kind. */
export interface FamilyCount {
  readonly total: number;
  readonly byKind: Readonly<Record<string, number>>;
}

/** The totals of every run of a store: what `kvapp-chaos --totals` prints (and `--json` gives). */
export interface Totals {
  readonly runs: {
    readonly total: number;
    readonly byVerdict: { readonly valid: number; readonly invalid: number; readonly unknown: number };
    readonly byExpect: { readonly valid: number; readonly invalid: number };
    readonly durationS: number;
  };
  /**
   * Every kill -9 the faults dealt plus every crash at an armed failpoint: a `kill` period is one
   * round (its one or two victims die together), failpoint-crash adds the kill that restarts its
   * node armed and each crash at the failpoint, a membership step adds each kill among its actions.
   */
  readonly killRounds: { readonly total: number; readonly byKind: Readonly<Record<string, KindKills>> };
  readonly powerCutRounds: number;
  readonly partitionPeriods: FamilyCount;
  readonly pausePeriods: number;
  /** Periods of every kind in no family above, by kind. */
  readonly otherPeriods: Readonly<Record<string, number>>;
  /** Periods ended by a heal that threw, and periods never ended (the run was cut short). */
  readonly healErrors: number;
  readonly unterminated: number;
  readonly ops: { readonly total: number; readonly ok: number; readonly fail: number; readonly info: number };
  readonly ackedWrites: { readonly checked: number; readonly lost: number };
  readonly anomalies: {
    /** Runs that finished with the other verdict than expected (invalid where valid was expected, or a planted bug not caught). */
    readonly unexpectedVerdicts: number;
    /** Acknowledged writes lost, over every run. */
    readonly lostWrites: number;
    /** Runs that erred or never finished (verdict unknown, a harness error, no results.json). */
    readonly errors: number;
    /** Each anomalous run and why. */
    readonly runs: readonly { readonly name: string; readonly why: readonly string[] }[];
  };
  /** Each node id's memory over every run that sampled it, and over all nodes. */
  readonly rssMb: { readonly byNode: Readonly<Record<string, RssRange>>; readonly all: RssRange | null; readonly runsSampled: number };
  readonly perRun: readonly RunTally[];
}

function num(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) ? x : 0;
}

function add(into: Record<string, number>, key: string, n: number): void {
  into[key] = (into[key] ?? 0) + n;
}

function addKills(into: Record<string, KindKills>, kind: string, k: KindKills): void {
  const was = into[kind] ?? { kills: 0, crashes: 0 };
  into[kind] = { kills: was.kills + k.kills, crashes: was.crashes + k.crashes };
}

function widen(into: Record<string, RssRange>, id: string, r: RssRange): void {
  const was = into[id];
  into[id] = was === undefined ? { min: r.min, max: r.max } : { min: Math.min(was.min, r.min), max: Math.max(was.max, r.max) };
}

/** The share of one run folder: its results.json and its fault periods from nemesis.jsonl. */
export function tallyRun(run: StoredRun): RunTally {
  const r = run.results;
  const periods: Record<string, number> = {};
  const kills: Record<string, KindKills> = {};
  let healErrors = 0;
  let unterminated = 0;
  for (const line of run.nemesis) {
    if (line.phase === 'start') {
      add(periods, line.nemesis, 1);
      continue;
    }
    const detail = typeof line.detail === 'object' && line.detail !== null ? (line.detail as Record<string, unknown>) : {};
    if (detail['unterminated'] === true) unterminated += 1;
    if (typeof detail['healError'] === 'string') healErrors += 1;
    const k = periodKills(line.nemesis, line.detail);
    if (k.kills + k.crashes > 0) addKills(kills, line.nemesis, k);
  }
  const verdict = r?.verdict === 'valid' || r?.verdict === 'invalid' ? r.verdict : 'unknown';
  const expect = r?.expect === 'valid' || r?.expect === 'invalid' ? r.expect : null;
  const lost = num(r?.ackedWrites?.lost);
  // Without results.json the run never finished: that is an error; otherwise a damaged line is a note.
  const anomalies: string[] = r === null ? [...run.problems] : [];
  const notes: string[] = r === null ? [] : [...run.problems];
  if (r !== null && typeof r.error === 'string') anomalies.push(`error: ${r.error.split('\n')[0]!.slice(0, 200)}`);
  else if (r !== null && verdict === 'unknown') anomalies.push('verdict unknown');
  if (verdict !== 'unknown' && expect !== null && verdict !== expect)
    anomalies.push(expect === 'valid' ? 'invalid where valid was expected' : 'valid where the planted bug must make it invalid');
  if (lost > 0) anomalies.push(`${lost} acknowledged write(s) lost`);
  if (healErrors > 0) anomalies.push(`${healErrors} heal(s) failed`);
  const rss = r?.rssMb;
  return {
    name: run.name,
    scenario: typeof r?.scenario === 'string' ? r.scenario : run.name.split('/')[0]!,
    seed: typeof r?.seed === 'number' ? r.seed : null,
    verdict,
    expect,
    durationS: num(r?.durationMs) / 1000,
    periods,
    kills,
    healErrors,
    unterminated,
    ops: { total: num(r?.ops?.total), ok: num(r?.ops?.ok), fail: num(r?.ops?.fail), info: num(r?.ops?.info) },
    ackedWrites: { checked: num(r?.ackedWrites?.checked), lost },
    rssMb: rss !== undefined && typeof rss === 'object' && rss !== null && Object.keys(rss).length > 0 ? rss : null,
    anomalies,
    notes,
  };
}

/** The totals over runs (tallyRun of each). */
export function totals(runs: readonly RunTally[]): Totals {
  const byVerdict = { valid: 0, invalid: 0, unknown: 0 };
  const byExpect = { valid: 0, invalid: 0 };
  const periods: Record<string, number> = {};
  const ops = { total: 0, ok: 0, fail: 0, info: 0 };
  const acked = { checked: 0, lost: 0 };
  const rssByNode: Record<string, RssRange> = {};
  const kills: Record<string, KindKills> = {};
  let durationS = 0;
  let healErrors = 0;
  let unterminated = 0;
  let runsSampled = 0;
  let unexpectedVerdicts = 0;
  let errors = 0;
  for (const t of runs) {
    byVerdict[t.verdict] += 1;
    if (t.expect !== null) byExpect[t.expect] += 1;
    durationS += t.durationS;
    for (const [kind, n] of Object.entries(t.periods)) add(periods, kind, n);
    for (const [kind, k] of Object.entries(t.kills)) addKills(kills, kind, k);
    healErrors += t.healErrors;
    unterminated += t.unterminated;
    for (const k of ['total', 'ok', 'fail', 'info'] as const) ops[k] += t.ops[k];
    acked.checked += t.ackedWrites.checked;
    acked.lost += t.ackedWrites.lost;
    if (t.rssMb !== null) {
      runsSampled += 1;
      for (const [id, r] of Object.entries(t.rssMb)) widen(rssByNode, id, r);
    }
    if (t.verdict !== 'unknown' && t.expect !== null && t.verdict !== t.expect) unexpectedVerdicts += 1;
    if (t.verdict === 'unknown') errors += 1;
  }
  return {
    runs: { total: runs.length, byVerdict, byExpect, durationS: Math.round(durationS) },
    killRounds: { total: Object.values(kills).reduce((n, k) => n + k.kills + k.crashes, 0), byKind: kills },
    powerCutRounds: familyCount(periods, 'power-cut').total,
    partitionPeriods: familyCount(periods, 'partition'),
    pausePeriods: familyCount(periods, 'pause').total,
    otherPeriods: Object.fromEntries(Object.entries(periods).filter(([kind]) => faultFamily(kind) === null)),
    healErrors,
    unterminated,
    ops,
    ackedWrites: acked,
    anomalies: {
      unexpectedVerdicts,
      lostWrites: acked.lost,
      errors,
      runs: runs.filter((t) => t.anomalies.length > 0).map((t) => ({ name: t.name, why: t.anomalies })),
    },
    rssMb: { byNode: rssByNode, all: rssAll(rssByNode), runsSampled },
    perRun: runs,
  };
}

function familyCount(periods: Readonly<Record<string, number>>, family: string): FamilyCount {
  const byKind = Object.fromEntries(Object.entries(periods).filter(([kind]) => faultFamily(kind) === family));
  return { total: Object.values(byKind).reduce((a, b) => a + b, 0), byKind };
}

function rssAll(byNode: Readonly<Record<string, RssRange>>): RssRange | null {
  const all = Object.values(byNode);
  if (all.length === 0) return null;
  return { min: Math.min(...all.map((r) => r.min)), max: Math.max(...all.map((r) => r.max)) };
}

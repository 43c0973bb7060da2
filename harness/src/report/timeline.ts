import type { Operation, Value } from '@kvapp/checker';
import { bandColor, nemesisBand } from './nemesis-band.js';
import type { NemesisPeriod } from './nemesis-periods.js';
import { outcomeOf } from './run-stats.js';
import { esc, fmt, px, ticks } from './svg.js';

/**
 * The timeline: one bar per operation from invocation to completion, on lanes of processes, with
 * the nemesis periods shaded behind. A long run is drawn in a window of `barsMax` operations
 * around the point of interest (the checker's blocked operation, else the first fault), so the page
 * stays quick to open.
 */
export const barsMaxDefault = 3000;

export interface TimelineOptions {
  readonly barsMax?: number;
  /** Operation ids to mark (the checker's blocked operations); the window centres on the first. */
  readonly marked?: ReadonlySet<number>;
}

export interface Timeline {
  readonly svg: string;
  readonly shown: number;
  readonly total: number;
  readonly fromS: number;
  readonly toS: number;
  readonly lanes: number;
  readonly bands: number;
}

const labelW = 130;
const rowH = 16;
const barH = 11;
const bandLabelH = 13;
const axisH = 22;

export function drawTimeline(
  operations: readonly Operation[],
  periods: readonly NemesisPeriod[],
  endTime: number,
  options: TimelineOptions = {},
): Timeline {
  const barsMax = options.barsMax ?? barsMaxDefault;
  const marked = options.marked ?? new Set<number>();
  const ops = [...operations].sort((a, b) => a.callTime - b.callTime || a.id - b.id);
  const { lo, hi } = chooseWindow(ops, periods, marked, barsMax);
  const shown = ops.slice(lo, hi);
  const from = lo === 0 ? 0 : shown[0]!.callTime;
  const to = hi >= ops.length ? Math.max(endTime, from + 1) : ops[hi]!.callTime;
  const span = Math.max(1, to - from);
  // Fits a laptop screen up to ~1,250 bars, then grows (and scrolls) to keep about a pixel per bar.
  const plotW = Math.min(4000, Math.max(1000, Math.round(shown.length * 0.8)));
  const x = (t: number): number => labelW + ((Math.min(Math.max(t, from), to) - from) / span) * plotW;

  const visible = periods.filter((p) => p.end > from && p.start < to);
  const bandLevel = levels(visible.map((p) => [p.start, p.end]));
  const bandRows = Math.max(1, ...bandLevel.map((l) => l + 1));
  const top = bandRows * bandLabelH + 4;
  const lanes = packLanes(shown, to);
  const height = top + lanes.count * rowH + axisH;
  const width = labelW + plotW + 10;

  const parts: string[] = [];
  parts.push(
    `<svg class="timeline-svg" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
  );
  visible.forEach((p, i) => {
    const x0 = x(p.start);
    const w = Math.max(2, x(p.end) - x0);
    const tip = `${p.nemesis}${p.open ? ' (no end recorded)' : ''}: ${fmt(p.start / 1e9)}–${fmt(p.end / 1e9)} s${detailText(p.detail)}`;
    parts.push(
      `<rect class="nemesis-band" data-nemesis="${esc(p.nemesis)}" x="${px(x0)}" y="${px(bandLevel[i]! * bandLabelH)}" width="${px(w)}" height="${px(height - axisH - bandLevel[i]! * bandLabelH)}" fill="${bandColor(p.nemesis)}" data-tip="${esc(tip)}"/>`,
    );
    parts.push(
      `<text class="nemesis-label" x="${px(x0 + 3)}" y="${px(bandLevel[i]! * bandLabelH + 10)}">${esc(nemesisBand(p.nemesis).label)}</text>`,
    );
  });
  lanes.labels.forEach((label, i) => {
    const y = top + i * rowH;
    if (i % 2 === 1) parts.push(`<rect class="lane-stripe" x="${labelW}" y="${y}" width="${plotW}" height="${rowH}"/>`);
    parts.push(`<text class="lane-label" x="4" y="${y + barH}">${esc(label)}<title>${esc(label)}</title></text>`);
  });
  for (const op of shown) {
    const x0 = x(op.callTime);
    const x1 = op.retTime === null ? x(to) : x(op.retTime);
    const y = top + lanes.of.get(op.process)! * rowH + (rowH - barH) / 2;
    const cls = `op ${outcomeOf(op)}${marked.has(op.id) ? ' marked' : ''}`;
    parts.push(
      `<rect class="${cls}" data-op="${op.id}" x="${px(x0)}" y="${px(y)}" width="${px(Math.max(1, x1 - x0))}" height="${barH}" data-tip="${esc(opTip(op))}"/>`,
    );
  }
  const axisY = top + lanes.count * rowH + 2;
  parts.push(`<line class="axis" x1="${labelW}" y1="${axisY}" x2="${labelW + plotW}" y2="${axisY}"/>`);
  const spanS = span / 1e9;
  for (const t of ticks(spanS, 10)) {
    const tx = labelW + (t / spanS) * plotW;
    parts.push(
      `<line class="tick" x1="${px(tx)}" y1="${axisY}" x2="${px(tx)}" y2="${axisY + 4}"/><text class="tick-label" x="${px(tx)}" y="${axisY + 16}">${fmt(from / 1e9 + t)} s</text>`,
    );
  }
  parts.push('</svg>');
  return {
    svg: parts.join(''),
    shown: shown.length,
    total: ops.length,
    fromS: from / 1e9,
    toS: to / 1e9,
    lanes: lanes.count,
    bands: visible.length,
  };
}

/** Index range [lo, hi) of at most `barsMax` operations around the point of interest. */
export function chooseWindow(
  ops: readonly Operation[],
  periods: readonly NemesisPeriod[],
  marked: ReadonlySet<number>,
  barsMax: number,
): { lo: number; hi: number } {
  if (ops.length <= barsMax) return { lo: 0, hi: ops.length };
  let focus = ops.findIndex((op) => marked.has(op.id));
  if (focus < 0 && periods.length > 0) focus = ops.findIndex((op) => op.callTime >= periods[0]!.start);
  if (focus < 0) focus = Math.floor(ops.length / 2);
  const lo = Math.min(Math.max(0, focus - Math.floor(barsMax * 0.6)), ops.length - barsMax);
  return { lo, hi: lo + barsMax };
}

/**
 * Puts processes on lanes: the harness retires a process after an indeterminate operation and
 * continues on a new one, so a client's successive processes share a lane instead of each taking a row.
 */
function packLanes(ops: readonly Operation[], end: number): { count: number; of: Map<Operation['process'], number>; labels: string[] } {
  const life = new Map<Operation['process'], [number, number]>();
  for (const op of ops) {
    const stop = op.retTime ?? end;
    const l = life.get(op.process);
    if (!l) life.set(op.process, [op.callTime, stop]);
    else l[1] = Math.max(l[1], stop);
  }
  const entries = [...life].sort((a, b) => a[1][0] - b[1][0]);
  const lane = levels(entries.map((e) => e[1]));
  const of = new Map<Operation['process'], number>();
  const members: string[][] = [];
  entries.forEach(([p], i) => {
    of.set(p, lane[i]!);
    (members[lane[i]!] ??= []).push(String(p));
  });
  const labels = members.map((ps) =>
    ps.length === 1 ? `process ${ps[0]}` : `processes ${ps.slice(0, 3).join(', ')}${ps.length > 3 ? ` +${ps.length - 3}` : ''}`,
  );
  return { count: members.length, of, labels };
}

/** Greedy interval colouring: intervals (sorted by start) onto the lowest free level. */
function levels(intervals: readonly (readonly [number, number])[]): number[] {
  const lastEnd: number[] = [];
  return intervals.map(([start, end]) => {
    let level = lastEnd.findIndex((e) => e < start);
    if (level < 0) level = lastEnd.length;
    lastEnd[level] = end;
    return level;
  });
}

function show(v: Value | null): string {
  return v === null ? 'absent' : JSON.stringify(v);
}

export function opTip(op: Operation): string {
  let what: string;
  if (op.f === 'read') what = `read ${op.key}${op.status === 'ok' ? ` → ${show(op.output)}` : ''}`;
  else if (op.f === 'write') what = `write ${op.key} = ${show(op.input as Value)}`;
  else if (op.f === 'delete') what = `delete ${op.key}`;
  else {
    const [e, n] = op.input as readonly [Value | null, Value];
    what = `cas ${op.key} ${show(e)} → ${show(n)}`;
  }
  const outcome = op.status === 'mismatch' ? 'fail (cas-mismatch)' : op.error ? `${outcomeOf(op)} (${op.error})` : outcomeOf(op);
  const took = op.retTime === null ? 'never completed' : `${fmt((op.retTime - op.callTime) / 1e6)} ms`;
  return `process ${op.process} · ${what} · ${outcome} · ${took} · at ${fmt(op.callTime / 1e9)} s`;
}

function detailText(detail: unknown): string {
  if (detail === null || detail === undefined) return '';
  const s = JSON.stringify(detail);
  return ` · ${s.length > 200 ? `${s.slice(0, 200)}…` : s}`;
}

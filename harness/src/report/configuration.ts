import type { NemesisLine } from './run-files.js';
import { esc, fmt, px, ticks } from './svg.js';

/**
 * The cluster's configuration over time, as the membership nemesis recorded it: each step's end line
 * in nemesis.jsonl has the configuration before the step (`confBefore`) and after each change it
 * saw (`changes`, run-clock times). Drawn as consecutive bands over the whole run, aligned with the
 * charts below it.
 */
export interface ConfSpan {
  /** Run clock, ns. */
  readonly start: number;
  readonly end: number;
  readonly voters: readonly number[];
  readonly learners: readonly number[];
  readonly leaving: readonly number[];
  /** What made this configuration (e.g. 'removed 2'); 'start' for the one the run began with. */
  readonly what: string;
}

interface Point {
  readonly t: number;
  readonly voters: readonly number[];
  readonly learners: readonly number[];
  readonly leaving: readonly number[];
  readonly what: string;
}

const numbers = (v: unknown): number[] => (Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : []);

function pointOf(o: unknown, t: number, what: string): Point | null {
  if (typeof o !== 'object' || o === null) return null;
  const c = o as Record<string, unknown>;
  if (!Array.isArray(c['voters'])) return null;
  return { t, voters: numbers(c['voters']), learners: numbers(c['learners']), leaving: numbers(c['leaving']), what };
}

export function confLabel(s: Pick<ConfSpan, 'voters' | 'learners' | 'leaving'>): string {
  const parts = [`voters ${s.voters.join(',') || '-'}`];
  if (s.learners.length > 0) parts.push(`learners ${s.learners.join(',')}`);
  if (s.leaving.length > 0) parts.push(`leaving ${s.leaving.join(',')}`);
  return parts.join(' · ');
}

/** Pure: the spans from the membership lines of nemesis.jsonl; [] when the run changed no membership. */
export function configurationSpans(lines: readonly NemesisLine[], endTime: number): ConfSpan[] {
  const points: Point[] = [];
  for (const line of lines) {
    if (line.nemesis !== 'membership' || line.phase !== 'end' || typeof line.detail !== 'object' || line.detail === null) continue;
    const d = line.detail as Record<string, unknown>;
    if (points.length === 0) {
      const first = pointOf(d['confBefore'], 0, 'start');
      if (first !== null) points.push(first);
    }
    for (const c of Array.isArray(d['changes']) ? d['changes'] : []) {
      const t = (c as Record<string, unknown>)?.['t'];
      const what = (c as Record<string, unknown>)?.['what'];
      const p = typeof t === 'number' ? pointOf(c, t, typeof what === 'string' ? what : '') : null;
      if (p !== null) points.push(p);
    }
  }
  points.sort((a, b) => a.t - b.t);
  const spans: ConfSpan[] = [];
  points.forEach((p, i) => {
    const end = i + 1 < points.length ? points[i + 1]!.t : Math.max(endTime, p.t);
    const last = spans[spans.length - 1];
    if (last !== undefined && confLabel(last) === confLabel(p)) {
      spans[spans.length - 1] = { ...last, end };
      return;
    }
    spans.push({ start: p.t, end, voters: p.voters, learners: p.learners, leaving: p.leaving, what: p.what });
  });
  return spans;
}

// The charts' geometry (charts.ts), so that a band sits above the same seconds.
const w = 1100;
const left = 56;
const right = 12;
const bandH = 26;

/** Fills by shape: three voters, more, fewer, a learner or a joint change in flight. */
function fill(s: ConfSpan): string {
  if (s.leaving.length > 0) return 'rgba(229,57,53,0.22)';
  if (s.learners.length > 0) return 'rgba(251,140,0,0.22)';
  if (s.voters.length > 3) return 'rgba(30,136,229,0.2)';
  if (s.voters.length < 3) return 'rgba(142,36,170,0.2)';
  return 'rgba(67,160,71,0.2)';
}

export function configurationStrip(spans: readonly ConfSpan[], xMaxS: number): string {
  const plotW = w - left - right;
  const xMax = Math.max(xMaxS, 1e-9);
  const x = (ns: number): number => left + (Math.min(Math.max(ns / 1e9, 0), xMax) / xMax) * plotW;
  const h = bandH + 22;
  const parts = [`<svg class="configuration" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">`];
  for (const s of spans) {
    const x0 = x(s.start);
    const width = Math.max(1, x(s.end) - x0);
    const label = confLabel(s);
    const tip = `${label} · ${fmt(s.start / 1e9)}–${fmt(s.end / 1e9)} s${s.what ? ` · after: ${s.what}` : ''}`;
    parts.push(
      `<rect class="conf-band" x="${px(x0)}" y="0" width="${px(width)}" height="${bandH}" fill="${fill(s)}" stroke="#fff" data-tip="${esc(tip)}"/>`,
    );
    // A label only where it fits (about 5.5 px a character); the tooltip always has it.
    const short =
      s.voters.join(',') + (s.learners.length ? ` +L${s.learners.join(',')}` : '') + (s.leaving.length ? ` -${s.leaving.join(',')}` : '');
    if (width > short.length * 5.5 + 4) parts.push(`<text class="conf-label" x="${px(x0 + 3)}" y="16">${esc(short)}</text>`);
  }
  for (const t of ticks(xMax, 10)) parts.push(`<text class="tick-label" x="${px(x(t * 1e9))}" y="${h - 6}">${fmt(t)} s</text>`);
  parts.push('</svg>');
  return parts.join('');
}

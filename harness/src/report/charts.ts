import type { NemesisPeriod } from './nemesis-periods.js';
import { bandColor } from './nemesis-band.js';
import { esc, fmt, px, ticks } from './svg.js';

export interface Line {
  readonly name: string;
  /** CSS class of the path (colour). */
  readonly cls: string;
  /** y per x; null leaves a gap (no data in that bucket). */
  readonly ys: readonly (number | null)[];
}

export interface ChartOptions {
  readonly title: string;
  readonly yUnit: string;
  /** Start of each bucket, seconds. */
  readonly xs: readonly number[];
  readonly xMaxS: number;
  readonly lines: readonly Line[];
  readonly periods: readonly NemesisPeriod[];
  /** The stretch the timeline shows, outlined so the reader can place it. */
  readonly window?: { readonly fromS: number; readonly toS: number };
  readonly logY?: boolean;
}

const w = 1100;
const h = 220;
const left = 56;
const right = 12;
const topPad = 18;
const bottom = 24;

/** A line chart over the whole run with the nemesis periods shaded; inline SVG, no library. */
export function lineChart(o: ChartOptions): string {
  const plotW = w - left - right;
  const plotH = h - topPad - bottom;
  const xMax = Math.max(o.xMaxS, 1e-9);
  const x = (s: number): number => left + (Math.min(Math.max(s, 0), xMax) / xMax) * plotW;
  let yMax = 0;
  for (const l of o.lines) for (const y of l.ys) if (y !== null) yMax = Math.max(yMax, y);
  const yTicks = o.logY ? logTicks(yMax) : ticks(yMax > 0 ? yMax * 1.05 : 1, 5);
  const yTop = yTicks[yTicks.length - 1]!;
  const y = o.logY
    ? (v: number): number =>
        topPad +
        plotH -
        ((Math.log10(Math.max(v, yTicks[0]!)) - Math.log10(yTicks[0]!)) / (Math.log10(yTop) - Math.log10(yTicks[0]!))) * plotH
    : (v: number): number => topPad + plotH - (v / yTop) * plotH;
  const parts: string[] = [`<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">`];
  parts.push(`<text class="chart-title" x="${left}" y="12">${esc(o.title)}</text>`);
  for (const p of o.periods) {
    const x0 = x(p.start / 1e9);
    parts.push(
      `<rect class="band" x="${px(x0)}" y="${topPad}" width="${px(Math.max(1, x(p.end / 1e9) - x0))}" height="${plotH}" fill="${bandColor(p.nemesis)}" data-tip="${esc(`${p.nemesis}: ${fmt(p.start / 1e9)}–${fmt(p.end / 1e9)} s`)}"/>`,
    );
  }
  if (o.window && (o.window.fromS > 0 || o.window.toS < xMax)) {
    const x0 = x(o.window.fromS);
    parts.push(
      `<rect class="window" x="${px(x0)}" y="${topPad}" width="${px(Math.max(1, x(o.window.toS) - x0))}" height="${plotH}" data-tip="the stretch drawn in the timeline"/>`,
    );
  }
  for (const t of yTicks) {
    parts.push(
      `<line class="grid" x1="${left}" y1="${px(y(t))}" x2="${left + plotW}" y2="${px(y(t))}"/><text class="tick-label y" x="${left - 4}" y="${px(y(t) + 4)}">${fmt(t)}</text>`,
    );
  }
  for (const t of ticks(xMax, 10)) {
    parts.push(`<text class="tick-label" x="${px(x(t))}" y="${h - 6}">${fmt(t)} s</text>`);
  }
  parts.push(`<text class="unit" x="4" y="${topPad + 10}">${esc(o.yUnit)}</text>`);
  let lx = left + plotW;
  for (const l of [...o.lines].reverse()) {
    lx -= 22 + l.name.length * 7;
    parts.push(`<text class="legend ${l.cls}" x="${px(lx)}" y="12">■ ${esc(l.name)}</text>`);
  }
  for (const l of o.lines) {
    const d: string[] = [];
    let pen = false;
    l.ys.forEach((v, i) => {
      if (v === null) {
        pen = false;
        return;
      }
      d.push(`${pen ? 'L' : 'M'}${px(x(o.xs[i]!))} ${px(y(v))}`);
      pen = true;
    });
    if (d.length) parts.push(`<path class="series ${l.cls}" d="${d.join('')}"/>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/** Powers of ten covering (0, max], for latency that spans orders of magnitude. */
function logTicks(max: number): number[] {
  const out: number[] = [];
  const top = max > 0 ? Math.ceil(Math.log10(max)) : 0;
  for (let e = Math.max(-2, top - 4); e <= Math.max(top, 0); e++) out.push(10 ** e);
  return out;
}

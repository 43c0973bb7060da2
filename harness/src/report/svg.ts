/** Small helpers for the inline SVG the report draws (no library: the page must open offline). */

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Rounds a coordinate to 0.1 px: the file stays small and nothing visible changes. */
export function px(x: number): string {
  return String(Math.round(x * 10) / 10);
}

/** About `count` round tick values covering [0, max]. */
export function ticks(max: number, count: number): number[] {
  if (!(max > 0)) return [0];
  const raw = max / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

export function fmt(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 100) return String(Math.round(v));
  if (Math.abs(v) >= 10) return (Math.round(v * 10) / 10).toString();
  if (Math.abs(v) < 0.01) return String(Number(v.toPrecision(2)));
  return (Math.round(v * 100) / 100).toString();
}

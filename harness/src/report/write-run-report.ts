import { writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { lineChart } from './charts.js';
import { configurationSpans, configurationStrip } from './configuration.js';
import { counterexample, counterexampleFrame, type Counterexample } from './counterexample.js';
import { nemesisPeriods } from './nemesis-periods.js';
import { renderPage } from './page.js';
import { readRunFiles } from './run-files.js';
import { availability, latency, opCounts, operations } from '../run/summary.js';
import { runEndTime, timeSeries } from './run-stats.js';
import { drawTimeline } from './timeline.js';

export interface RunReportOptions {
  /** Operations drawn in the timeline (a window of a longer run). */
  readonly barsMax?: number;
  /** Bound on re-running the checker for the counterexample. */
  readonly recheckMs?: number;
}

/**
 * Writes `<dir>/report.html` from the files of a run folder only (history.jsonl, nemesis.jsonl,
 * results.json when present) and returns its path. One self-contained page: styles, script and
 * drawings inline, nothing fetched. Missing or damaged files are noted on the page, not thrown:
 * the report of a broken run is the one most needed.
 */
export async function writeRunReport(dir: string, options: RunReportOptions = {}): Promise<string> {
  const files = await readRunFiles(dir);
  const ops = files.history?.operations ?? [];
  const endTime = runEndTime(
    ops,
    files.nemesis.map((n) => n.time),
  );
  const periods = nemesisPeriods(files.nemesis, endTime);
  const notes = [...files.notes];

  let cx: Counterexample = { html: null, keys: [], blocked: new Set(), note: '' };
  const r = files.results;
  const invalid = r === null ? true : r.checker?.valid === false;
  if (files.history && invalid && ops.length > 0) {
    cx = await counterexample(files.history, r === null ? null : (r.checker?.failedKeys ?? []), options.recheckMs);
  }

  const timeline = files.history
    ? drawTimeline(ops, periods, endTime, { marked: cx.blocked, ...(options.barsMax !== undefined ? { barsMax: options.barsMax } : {}) })
    : null;
  const series = timeSeries(ops, endTime);
  const window = timeline ? { fromS: timeline.fromS, toS: timeline.toS } : undefined;
  const common = { xs: series.startsS, xMaxS: endTime / 1e9, periods, ...(window ? { window } : {}) };
  const latencyChart = lineChart({
    ...common,
    title: 'latency of ok operations, per bucket',
    yUnit: 'ms',
    logY: true,
    lines: [
      { name: 'p50', cls: 'p50', ys: series.p50Ms },
      { name: 'p99', cls: 'p99', ys: series.p99Ms },
      { name: 'max', cls: 'max', ys: series.maxMs },
    ],
  });
  const throughputChart = lineChart({
    ...common,
    title: `completions per second (buckets of ${Math.round(series.bucketS * 1000)} ms)`,
    yUnit: 'ops/s',
    lines: [
      { name: 'ok', cls: 'ok', ys: series.okPerS },
      { name: 'fail', cls: 'fail', ys: series.failPerS },
      { name: 'info', cls: 'info', ys: series.infoPerS },
    ],
  });

  // When results.json is missing, the same figures the run would have written, from the same code.
  const completed = files.history ? operations(files.history.operations) : [];
  const spans = configurationSpans(files.nemesis, endTime);
  const html = renderPage({
    dir,
    results: r,
    notes,
    counts: files.history ? opCounts(completed) : null,
    latency: files.history ? latency(completed) : null,
    availability: files.history ? availability(completed, files.nemesis, endTime) : [],
    durationS: endTime / 1e9,
    timeline,
    configuration: spans.length === 0 ? null : configurationStrip(spans, endTime / 1e9),
    latencyChart,
    throughputChart,
    counterexample: { frame: counterexampleFrame(cx), keys: cx.keys, note: cx.note },
  });
  const path = join(dir, 'report.html');
  // Written aside and renamed, so a reader never opens half a report.
  await writeFile(`${path}.tmp`, html);
  await rename(`${path}.tmp`, path);
  return path;
}

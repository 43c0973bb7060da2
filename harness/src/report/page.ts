import type { AvailabilityPeriod, LatencySummary, RunResult } from '../run/types.js';
import type { RunResultsFile } from './run-files.js';
import { esc, fmt } from './svg.js';

/** Everything the page shows, already drawn or summarised; page.ts only lays it out. */
export interface PageParts {
  readonly dir: string;
  readonly results: RunResultsFile | null;
  readonly notes: readonly string[];
  readonly counts: RunResult['ops'] | null;
  readonly latency: LatencySummary | null;
  readonly availability: readonly AvailabilityPeriod[];
  readonly durationS: number;
  readonly timeline: {
    readonly svg: string;
    readonly shown: number;
    readonly total: number;
    readonly fromS: number;
    readonly toS: number;
  } | null;
  /** The configuration over time as bands (configuration.ts); null when the run changed no membership. */
  readonly configuration?: string | null;
  readonly latencyChart: string;
  readonly throughputChart: string;
  readonly counterexample: { readonly frame: string; readonly keys: readonly string[]; readonly note: string };
}

export function renderPage(p: PageParts): string {
  const r = p.results;
  const title = `kvapp chaos: ${r?.scenario ?? 'run'}${r?.seed !== undefined ? ` (seed ${r.seed})` : ''}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>${esc(title)}</title>
<style>${css}</style></head>
<body>
<h1>${esc(title)}</h1>
${p.notes.length ? `<div class="notes">${p.notes.map((n) => `<p>${esc(n)}</p>`).join('')}</div>` : ''}
<section id="summary">${summary(p)}</section>
<section id="timeline"><h2>Operations per process</h2>${timelineIntro(p)}<div class="scroll">${p.timeline?.svg ?? '<p>No history to draw.</p>'}</div></section>
${p.configuration ? `<section id="configuration"><h2>Configuration over time</h2><p class="note">Voters (+L learners, -leaving voters of a joint change) as the membership nemesis saw them after each change; hover a band for when and why.</p>${p.configuration}</section>` : ''}
<section id="latency"><h2>Latency over time</h2>${p.latencyChart}</section>
<section id="throughput"><h2>Throughput over time</h2>${p.throughputChart}</section>
${counterexampleSection(p)}
<div id="tip" role="tooltip"></div>
<script>${script}</script>
</body></html>
`;
}

function verdictClass(v: string | undefined): string {
  return v === 'valid' ? 'good' : v === 'invalid' ? 'bad' : 'unknown';
}

function row(name: string, value: string): string {
  return `<tr><th>${esc(name)}</th><td>${value}</td></tr>`;
}

function summary(p: PageParts): string {
  const r = p.results;
  const rows: string[] = [];
  if (r) {
    const passed = r.passed ?? (r.verdict !== undefined && r.verdict === r.expect);
    rows.push(row('scenario', esc(r.scenario ?? '?')), row('seed', esc(String(r.seed ?? '?'))), row('nodes', esc(String(r.nodes ?? '?'))));
    if (r.startedAt) rows.push(row('started', esc(r.startedAt)));
    rows.push(row('duration', `${fmt((r.durationMs ?? p.durationS * 1000) / 1000)} s`));
    rows.push(
      row(
        'verdict',
        `<span class="verdict ${verdictClass(r.verdict)}">${esc(r.verdict ?? '?')}</span> (expected ${esc(r.expect ?? '?')}) — <span class="${passed ? 'good' : 'bad'}" id="passed">${passed ? 'PASSED' : 'FAILED'}</span>`,
      ),
    );
    if (r.error) rows.push(row('harness error', `<span class="bad">${esc(r.error)}</span>`));
    if (r.checker) {
      const c = r.checker;
      const failed = c.failedKeys?.length ? `; not linearizable: ${c.failedKeys.map(esc).join(', ')}` : '';
      rows.push(
        row('linearizability', `${esc(String(c.valid ?? '?'))} — ${c.ops ?? '?'} ops on ${c.keys ?? '?'} keys, ${c.ms ?? '?'} ms${failed}`),
      );
    }
    const a = r.ackedWrites;
    rows.push(
      row(
        'acknowledged writes',
        a
          ? `${a.checked ?? '?'} checked, <span class="${(a.lost ?? 0) > 0 ? 'bad' : 'good'}">${a.lost ?? '?'} lost</span>${a.lostKeys?.length ? ` (keys ${a.lostKeys.slice(0, 20).map(esc).join(', ')})` : ''}`
          : 'not recorded',
      ),
    );
  } else {
    rows.push(row('results.json', 'absent: the run did not finish, or the report was made from a bare history'));
    rows.push(row('duration', `${fmt(p.durationS)} s (history)`));
  }
  if (p.counts) {
    const c = p.counts;
    const byF = Object.entries(c.byF)
      .map(([f, n]) => `${esc(f)} ${n.ok}/${n.fail}/${n.info}`)
      .join(', ');
    rows.push(
      row(
        'operations',
        `${c.total} — <span class="good">${c.ok} ok</span>, <span class="bad">${c.fail} fail</span>, <span class="unknown">${c.info} info</span> (ok/fail/info: ${byF})`,
      ),
    );
  }
  if (r?.faultNotes?.length) rows.push(row('fault figures', r.faultNotes.map(esc).join('<br>')));
  if (r?.rssMb && Object.keys(r.rssMb).length > 0) {
    const nodes = Object.entries(r.rssMb).map(([id, m]) => `node ${esc(id)} ${fmt(m.min)}–${fmt(m.max)}`);
    rows.push(row('node memory (RSS, MB min–max)', nodes.join(' · ')));
  }
  const l = r?.latencyMs ?? p.latency;
  if (l) rows.push(row('latency (ok ops)', `p50 ${fmt(l.p50)} ms · p90 ${fmt(l.p90)} ms · p99 ${fmt(l.p99)} ms · max ${fmt(l.max)} ms`));
  const avail = r?.availability?.length ? r.availability : p.availability;
  const table = avail.length
    ? `<table class="availability"><thead><tr><th>nemesis</th><th>from s</th><th>to s</th><th>ops</th><th>ok</th><th>answered</th><th>available</th></tr></thead><tbody>${avail
        .map(
          (a) =>
            `<tr><td>${esc(a.nemesis)}</td><td>${fmt(a.startS)}</td><td>${fmt(a.endS)}</td><td>${a.ops}</td><td>${a.ok}</td><td>${a.answered ?? '-'}</td><td>${(a.share * 100).toFixed(1)}%</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  return `<table class="summary">${rows.join('')}</table><h2>Availability per nemesis period</h2>${table || '<p>No nemesis periods.</p>'}`;
}

function timelineIntro(p: PageParts): string {
  const t = p.timeline;
  if (!t) return '';
  const part =
    t.shown < t.total
      ? `Showing ${t.shown} of ${t.total} operations, ${fmt(t.fromS)}–${fmt(t.toS)} s (outlined in the charts below). `
      : '';
  return `<p class="note">${part}Bars run from invocation to completion: <span class="key ok">ok</span> <span class="key fail">fail</span> <span class="key info">info (indeterminate)</span>; shaded bands are nemesis periods. Hover a bar for its operation.</p>`;
}

function counterexampleSection(p: PageParts): string {
  const c = p.counterexample;
  if (!c.frame && !c.note) return '';
  return `<section id="counterexample"><h2>Counterexample${c.keys.length ? ` (key${c.keys.length > 1 ? 's' : ''} ${c.keys.map(esc).join(', ')})` : ''}</h2>${c.note ? `<p class="note">${esc(c.note)}</p>` : ''}${c.frame}</section>`;
}

const css = `
body{font:14px/1.4 system-ui,sans-serif;margin:20px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin:24px 0 8px}
.good{color:#17752b}.bad{color:#b00020}.unknown{color:#a66300}
.verdict{font-weight:bold}
.notes{background:#fff8e1;border-left:4px solid #a66300;padding:4px 12px}
table.summary th{text-align:left;padding:2px 14px 2px 0;vertical-align:top;color:#555;font-weight:normal}
table.availability{border-collapse:collapse}
table.availability td,table.availability th{border:1px solid #ddd;padding:2px 8px;text-align:right}
table.availability td:first-child{text-align:left}
.note{color:#666;font-size:12px}
.scroll{overflow-x:auto;border:1px solid #ddd;background:#fff}
svg text{font:10px system-ui,sans-serif;fill:#444}
.nemesis-label{font-weight:bold;fill:#333}
.conf-label{font-weight:bold;fill:#333}
.lane-label{fill:#555}
.lane-stripe{fill:#f6f6f6}
.op{stroke:none}
.op.ok,.key.ok{fill:#43a047;background:#43a047}
.op.fail,.key.fail{fill:#e53935;background:#e53935}
.op.info,.key.info{fill:#fb8c00;background:#fb8c00}
.op.marked{stroke:#000;stroke-width:2}
.key{display:inline-block;color:#fff;padding:0 5px;border-radius:3px}
.axis,.tick{stroke:#999}
.grid{stroke:#eee}
.tick-label{text-anchor:middle}.tick-label.y{text-anchor:end}
.chart-title{font-weight:bold}
.series{fill:none;stroke-width:1.5}
.series.ok,.legend.ok{stroke:#43a047;fill:#43a047}
.series.fail,.legend.fail{stroke:#e53935;fill:#e53935}
.series.info,.legend.info{stroke:#fb8c00;fill:#fb8c00}
.series.p50,.legend.p50{stroke:#1e88e5;fill:#1e88e5}
.series.p99,.legend.p99{stroke:#8e24aa;fill:#8e24aa}
.series.max,.legend.max{stroke:#9e9e9e;fill:#9e9e9e}
.series.fail,.series.info,.series.max{fill:none}.series.ok,.series.p50,.series.p99{fill:none}
.window{fill:none;stroke:#333;stroke-dasharray:4 3}
iframe.counterexample{width:100%;height:600px;border:1px solid #ddd}
#tip{position:fixed;display:none;pointer-events:none;background:#222;color:#fff;font-size:12px;padding:4px 8px;border-radius:4px;max-width:520px;z-index:10}
`;

// Plain ES2017, no modules, no network: a tooltip for anything with data-tip, and the
// counterexample frame grown to its content.
const script = `
(function(){
var tip=document.getElementById('tip');
document.addEventListener('mousemove',function(e){
  var t=e.target&&e.target.getAttribute?e.target.getAttribute('data-tip'):null;
  if(!t){tip.style.display='none';return;}
  tip.textContent=t;tip.style.display='block';
  var x=Math.min(e.clientX+12,window.innerWidth-tip.offsetWidth-8);
  tip.style.left=x+'px';tip.style.top=(e.clientY+14)+'px';
});
Array.prototype.forEach.call(document.querySelectorAll('iframe.counterexample'),function(f){
  f.addEventListener('load',function(){try{f.style.height=(f.contentDocument.documentElement.scrollHeight+20)+'px';}catch(e){}});
});
})();
`;

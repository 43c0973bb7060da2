import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { writeRunReport } from '../../src/report/write-run-report.js';
import { writeFixture } from './fixture.js';

const count = (html: string, re: RegExp): number => (html.match(re) ?? []).length;

async function tempDir(t: Tap.Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kvapp-report-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('a valid run: summary, one bar per operation, nemesis bands, charts, no counterexample', async (t) => {
  const dir = await tempDir(t);
  const { ops } = await writeFixture(dir, { opsPerClient: 150 });
  const path = await writeRunReport(dir);
  t.equal(path, join(dir, 'report.html'));
  const html = await readFile(path, 'utf8');
  t.match(html, /^<!doctype html>/);
  t.notMatch(html, /<(script|link|img)[^>]+(src|href)=/, 'nothing is fetched');
  t.notMatch(html, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'no URL but the SVG namespace');
  t.equal(count(html, /class="op (ok|fail|info)/g), ops, 'every operation is a bar');
  t.equal(count(html, /class="nemesis-band"/g), 2);
  t.match(html, /class="nemesis-label"[^>]*>partition-halves</);
  t.match(html, /class="nemesis-label"[^>]*>kill</);
  t.equal(count(html, /<svg class="chart"/g), 2, 'latency and throughput charts');
  t.match(html, /partition-halves/);
  t.match(html, /<span class="verdict good">valid<\/span> \(expected valid\)/);
  t.match(html, /id="passed">PASSED/);
  t.match(html, /p50 [\d.]+ ms · p90/);
  t.match(html, /10 checked, <span class="good">0 lost/);
  // Availability computed from the history with the run's own code (run/summary.ts), as results.json
  // would have it: the quiet stretches between the faults are rows of their own, and each fault
  // period is worse than every quiet one.
  // Columns: nemesis, from, to, ops, ok, answered, available.
  const rows = [
    ...html.matchAll(/<tr><td>([a-z-]+)<\/td><td>[^<]*<\/td><td>[^<]*<\/td><td>(\d+)<\/td><td>(\d+)<\/td><td>(\d+)<\/td><td>([\d.]+)%/g),
  ];
  t.same(
    rows.map((r) => r[1]),
    ['none', 'partition-halves', 'none', 'kill', 'none'],
  );
  const share = rows.map((r) => Number(r[5]));
  const quiet = share.filter((_, i) => rows[i]![1] === 'none');
  const faulty = share.filter((_, i) => rows[i]![1] !== 'none');
  t.ok(Math.max(...faulty) < Math.min(...quiet) && Math.min(...quiet) > 50, `availability ${rows.map((r) => r[5]).join(', ')}`);
  // The fixture's quiet stretches have cas-mismatches: definite answers, so quiet time is fully available.
  t.ok(
    rows.some((r) => r[1] === 'none' && Number(r[4]) > Number(r[3])),
    'some quiet stretch has answers that are not ok',
  );
  t.same(
    quiet,
    quiet.map(() => 100),
    'a cas-mismatch counts as available',
  );
  t.notMatch(html, /<iframe/, 'no counterexample when valid');
  t.match(html, /data-tip="process \d+ · (read|write|cas) k\d/, 'bars carry their operation for the hover');
});

t.test("an invalid run embeds the checker's counterexample for the failing key and marks the blocked op", async (t) => {
  const dir = await tempDir(t);
  await writeFixture(dir, { opsPerClient: 60, staleRead: true });
  const html = await readFile(await writeRunReport(dir), 'utf8');
  t.match(html, /<span class="verdict bad">invalid<\/span> \(expected invalid\)/);
  t.match(html, /<h2>Counterexample \(key k0\)<\/h2>/);
  t.equal(count(html, /<iframe class="counterexample"/g), 1);
  const srcdoc = /srcdoc="([^"]*)"/.exec(html)![1]!;
  t.match(srcdoc, /kvapp-check report/, "the checker's own view");
  t.match(srcdoc, /btn-next/, 'with its step-through');
  t.equal(count(html, /class="op ok marked"/g), 1, 'the blocked read is marked');
});

t.test('a long run draws a bounded window around the failure', async (t) => {
  const dir = await tempDir(t);
  const { ops } = await writeFixture(dir, { opsPerClient: 1500, staleRead: true });
  const html = await readFile(await writeRunReport(dir, { barsMax: 1000 }), 'utf8');
  t.ok(ops > 5000);
  t.equal(count(html, /class="op (ok|fail|info)/g), 1000);
  t.match(html, new RegExp(`Showing 1000 of ${ops} operations`));
  t.equal(count(html, /class="op ok marked"/g), 1, 'the failure is inside the window');
  t.equal(count(html, /<rect class="window"/g), 2, 'the window is outlined in both charts');
});

t.test('without results.json the checker runs on the whole history', async (t) => {
  const dir = await tempDir(t);
  await writeFixture(dir, { opsPerClient: 40, staleRead: true, results: false });
  const html = await readFile(await writeRunReport(dir), 'utf8');
  t.match(html, /results\.json<\/th><td>absent/);
  t.match(html, /<h2>Counterexample \(key k0\)/);
});

t.test('damaged files are noted on the page, never thrown', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'history.jsonl'), '{"process":0,"type":"invoke","f":"read","key":"a","value":null,"time":1}\n{"torn');
  await writeFile(join(dir, 'nemesis.jsonl'), '{"time":5,"nemesis":"pause","phase":"start","detail":null}\n{"ti');
  const html = await readFile(await writeRunReport(dir), 'utf8');
  t.match(html, /class="notes"/);
  t.match(html, /history\.jsonl: /);
  t.match(html, /nemesis\.jsonl: 1 unreadable line\(s\) skipped/);
  t.match(html, /No history to draw/);
});

t.test('an empty folder still gives a page', async (t) => {
  const dir = await tempDir(t);
  const html = await readFile(await writeRunReport(dir), 'utf8');
  t.match(html, /results\.json<\/th><td>absent/);
  t.match(html, /No nemesis periods/);
});

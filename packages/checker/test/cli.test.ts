import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseArgs } from '../src/cli-main.js';
import { simulate, toEvents, toJsonl } from '../src/generate.js';
import { inject } from '../src/inject.js';
import { seededRng } from '@kvapp/core';

// The command as installed: the built dist (npm test builds first).
const cli = new URL('../dist/cli.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'kvapp-check-'));

function run(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env['NODE_OPTIONS']; // tap's coverage hooks are not needed in the child
  const r = spawnSync(process.execPath, [cli, ...args], { input, encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const valid = toJsonl(toEvents(simulate({ rng: seededRng(3), clients: 4, keys: 3, ops: 400 })));
const badOps = simulate({ rng: seededRng(4), clients: 4, keys: 3, ops: 400 });
inject(badOps, 'stale-read', seededRng(4), 0.5);
const invalid = toJsonl(toEvents(badOps));
writeFileSync(join(dir, 'valid.jsonl'), valid);
writeFileSync(join(dir, 'valid.jsonl.gz'), gzipSync(valid));
writeFileSync(join(dir, 'invalid.jsonl'), invalid);

t.test('exit codes and --json follow docs/kvapp-check.md', async (t) => {
  const ok = run([join(dir, 'valid.jsonl'), '--json']);
  t.equal(ok.code, 0);
  const j = JSON.parse(ok.stdout) as Record<string, unknown>;
  t.same(Object.keys(j), ['valid', 'ops', 'keys', 'ms', 'failedKeys']);
  t.match(j, { valid: true, ops: 400, keys: 3, failedKeys: [] });
  t.equal(run([join(dir, 'valid.jsonl.gz'), '--json']).code, 0, 'gzip');
  const stdin = run(['-', '--json'], valid);
  t.equal(stdin.code, 0, 'standard input');
  t.match(JSON.parse(stdin.stdout), { valid: true, ops: 400 });

  const bad = run([join(dir, 'invalid.jsonl'), '--json']);
  t.equal(bad.code, 1);
  t.match(JSON.parse(bad.stdout), { valid: false, failedKeys: [/^k\d$/] });
  const text = run([join(dir, 'invalid.jsonl')]);
  t.equal(text.code, 1);
  t.match(text.stdout, /NOT linearizable/);
  t.match(text.stdout, /cannot be placed/);
  t.match(text.stdout, /✗ /);
});

t.test('a timeout exits 2 with valid "unknown"', async (t) => {
  // Many concurrent writes of repeated values, then an impossible read: the search has to try them all.
  const lines: string[] = [];
  let i = 0;
  const ev = (o: Record<string, unknown>): void => {
    lines.push(JSON.stringify({ key: 'k', time: i, index: i, ...o }));
    i++;
  };
  // (About 11^6 sets of writes times 6 values to rule out: far more than half a second.)
  for (let p = 0; p < 60; p++) ev({ process: p, type: 'invoke', f: 'write', value: p % 6 });
  for (let p = 0; p < 60; p++) ev({ process: p, type: 'ok', f: 'write', value: p % 6 });
  for (let p = 0; p < 60; p++) ev({ process: 100 + p, type: 'invoke', f: 'cas', value: [p % 6, (p + 1) % 6] });
  for (let p = 0; p < 60; p++) ev({ process: 100 + p, type: 'fail', f: 'cas', value: [p % 6, (p + 1) % 6], error: 'cas-mismatch' });
  writeFileSync(join(dir, 'hard.jsonl'), lines.join('\n'));
  const r = run([join(dir, 'hard.jsonl'), '--json', '--timeout', '0.5']);
  t.equal(r.code, 2, r.stderr);
  t.match(JSON.parse(r.stdout), { valid: 'unknown' });
});

t.test('unreadable input exits 3 with the line and the reason', async (t) => {
  writeFileSync(join(dir, 'orphan.jsonl'), `${valid.split('\n')[0]}\n{"process":9,"type":"ok","f":"read","key":"k","value":1,"time":5}\n`);
  const r = run([join(dir, 'orphan.jsonl')]);
  t.equal(r.code, 3);
  t.match(r.stderr, /line 2: ok read on process 9 has no invocation in flight \[HISTORY_ORPHAN_COMPLETION\]/);
  t.equal(run([join(dir, 'missing.jsonl')]).code, 3);
  const json = run(['-'], '{"process":1,"type":"invoke","f":"incr","key":"k","value":1,"time":0}\n');
  t.equal(json.code, 3);
  t.match(json.stderr, /line 1: unknown f "incr"/);
  t.equal(run([]).code, 3, 'no arguments');
  t.equal(run(['a', '--bogus']).code, 3, 'unknown option');
});

t.test('--report writes one self-contained HTML file', async (t) => {
  const out = join(dir, 'r.html');
  t.equal(run([join(dir, 'invalid.jsonl'), '--report', out]).code, 1);
  const html = readFileSync(out, 'utf8');
  t.match(html, /^<!doctype html>/);
  t.notMatch(html, /<script[^>]+src=|<link[^>]+href=|https?:\/\//, 'nothing loaded from elsewhere');
});

t.test('argument parsing', async (t) => {
  t.same(parseArgs(['h.jsonl', '--json', '--timeout', '2.5', '--report=x.html']), {
    path: 'h.jsonl',
    json: true,
    timeoutMs: 2500,
    report: 'x.html',
  });
  t.match(parseArgs(['h.jsonl', '--timeout', '-1']), /positive number/);
  t.match(parseArgs(['a', 'b']), /more than one history/);
  t.same(parseArgs(['-']), { path: '-', json: false });
  t.same(parseArgs(['h.jsonl', '--threads', '2']), { path: 'h.jsonl', json: false, threads: 2 });
  t.match(parseArgs(['h.jsonl', '--threads=0']), /whole number from 1 to 64/);
  t.match(parseArgs(['h.jsonl', '--threads', '1.5']), /whole number from 1 to 64/);
});

t.test('--threads 2 gives the verdict of one thread', async (t) => {
  // 3 MB: the worker thread is started before the file is read (check.ts threadsAheadOf).
  const big = simulate({ rng: seededRng(6), clients: 10, keys: 8, ops: 16_000 });
  t.ok(inject(big, 'lost-write', seededRng(6), 0.5) >= 0);
  writeFileSync(join(dir, 'big.jsonl'), toJsonl(toEvents(big)));
  const one = run([join(dir, 'big.jsonl'), '--json']);
  const two = run([join(dir, 'big.jsonl'), '--json', '--threads', '2']);
  t.equal(one.code, 1);
  t.equal(two.code, 1, two.stderr);
  t.same(JSON.parse(two.stdout).failedKeys, JSON.parse(one.stdout).failedKeys);
});

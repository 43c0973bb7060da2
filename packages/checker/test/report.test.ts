import t from 'tap';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { checkHistory } from '../src/check.js';
import { simulate, toEvents } from '../src/generate.js';
import { inject } from '../src/inject.js';
import { historyFromEvents } from '../src/read-history.js';
import { renderReport } from '../src/report.js';
import { buildWitness } from '../src/witness.js';
import { seededRng } from '@kvapp/core';

// Debian's chromium (scripts/ensure-chromium.sh installs it). Missing chromium is a failure, not a skip.
const chromiumPath = '/usr/bin/chromium';
const flags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
];

t.test('the report draws the failing key, marks the witness and steps through it', async (t) => {
  t.ok(existsSync(chromiumPath), `${chromiumPath} exists (run scripts/ensure-chromium.sh)`);
  const ops = simulate({ rng: seededRng(11), clients: 4, keys: 2, ops: 300 });
  t.ok(inject(ops, 'stale-read', seededRng(11), 0.5) >= 0);
  const history = historyFromEvents(toEvents(ops));
  const result = await checkHistory(history);
  t.equal(result.valid, false);
  const w = result.witnesses[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'kvapp-report-'));
  const file = join(dir, 'report.html');
  writeFileSync(file, renderReport(history, result, 'stale.jsonl'));

  const browser = await chromium.launch({ executablePath: chromiumPath, args: flags });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) requests.push(r.url());
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(file).href);

  t.match(await page.textContent('#summary'), /NOT linearizable/);
  t.equal(await page.textContent('#failed-keys'), result.failedKeys.join(', '));
  const section = page.locator(`.key-section[data-key="${w.key}"]`);
  t.equal(await section.count(), 1, 'one section for the failing key');
  const keyOps = history.operations.filter((o) => o.key === w.key).length;
  t.equal(await section.locator('.op-bar').count(), keyOps, 'one bar per operation of the key');
  const processes = new Set(history.operations.filter((o) => o.key === w.key).map((o) => String(o.process))).size;
  t.equal(await section.locator('.row-label').count(), processes, 'one row per process');
  t.equal(await section.locator('.op-bar.blocked').count(), 1, 'the operation that cannot be placed is marked');
  t.equal(await section.locator('.op-bar.blocked').getAttribute('data-op-id'), String(w.blocked));
  t.match(await section.locator('.message').textContent(), /cannot be placed/);

  const n = w.prefix.length;
  t.equal(await section.locator('.op-bar.linearized').count(), n, 'at first the whole prefix is shown');
  t.equal(await section.locator('.step-label').textContent(), `step ${n} of ${n}`);
  await section.locator('.btn-first').click();
  t.equal(await section.locator('.op-bar.linearized').count(), 0);
  t.equal(await section.locator('.state-label').textContent(), 'value: absent');
  await section.locator('.btn-next').click();
  await section.locator('.btn-next').click();
  t.equal(await section.locator('.step-label').textContent(), `step 2 of ${n}`);
  t.equal(await section.locator('.op-bar.linearized').count(), 2);
  t.equal(await section.locator('.op-bar.current').getAttribute('data-op-id'), String(w.prefix[1]), 'the current step is highlighted');
  const v2 = w.valuesAfter[1]!;
  t.equal(await section.locator('.state-label').textContent(), `value: ${v2 === null ? 'absent' : JSON.stringify(v2)}`);
  await section.locator('.btn-prev').click();
  t.equal(await section.locator('.op-bar.linearized').count(), 1);
  await section.locator('.btn-last').click();
  t.equal(await section.locator('.op-bar.linearized').count(), n);
  t.same(requests, [], 'no network requests');
  t.same(errors, [], 'no script errors');
});

t.test('a delete in the witness is named, and the value after it is absent', async (t) => {
  const e = (process: number, type: string, f: string, value: unknown, i: number): Record<string, unknown> => ({
    process,
    type,
    f,
    key: 'x',
    value,
    time: i * 1000,
    index: i,
  });
  const history = historyFromEvents([
    e(1, 'invoke', 'write', 'a', 0),
    e(1, 'ok', 'write', 'a', 1),
    e(1, 'invoke', 'delete', null, 2),
    e(1, 'ok', 'delete', null, 3),
    e(2, 'invoke', 'read', null, 4),
    e(2, 'ok', 'read', 'a', 5),
  ]);
  const result = await checkHistory(history);
  t.equal(result.valid, false, 'a read of the deleted value after the delete is not linearizable');
  t.match(
    result.witnesses[0]!.message,
    /read → "a" \(process 2, lines 5–6\) cannot be placed: value "a" had been overwritten.*see delete \(process 1, lines 3–4\)/,
    'the zones name the delete as what overwrote the value',
  );
  const html = renderReport(history, result, 'delete.jsonl');
  t.match(html, /delete \(process 1, lines 3–4\)/, 'the report labels the delete');
  // The witness replays a prefix with the real values: a delete leaves the key absent.
  const byId = new Map(history.operations.map((op) => [op.id, op]));
  const w = buildWitness('x', byId, [0, 1], 2);
  t.same(w.valuesAfter, ['a', null], 'the write, then the delete');
  t.match(w.message, /the value is absent; read → "a" \(process 2, lines 5–6\) cannot be placed: it returned "a"/);
});

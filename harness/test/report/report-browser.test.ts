import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import t from 'tap';
import { writeRunReport } from '../../src/report/write-run-report.js';
import { writeFixture } from './fixture.js';

// Debian's chromium, installed when missing by scripts/ensure-chromium.sh (run by `npm test`).
const executablePath = '/usr/bin/chromium';
const args = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
];
/**
 * A test never writes into the repository: the screenshot goes to the test's temp dir. Only an
 * explicit KVAPP_WRITE_SCREENSHOT=<path> also copies it there (how the README's
 * docs/images/chaos-report.png is refreshed, see docs/testing.md).
 */
const screenshotCopyPath = process.env['KVAPP_WRITE_SCREENSHOT'];

let browser: Browser;
t.before(async () => {
  browser = await chromium.launch({ executablePath, args, headless: true });
});
t.teardown(() => browser?.close());

async function open(t: Tap.Test, report: string) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  t.teardown(() => page.close());
  const fetched: string[] = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('about:') || url.startsWith('data:')) return route.continue();
    fetched.push(url);
    return route.abort();
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(report).href);
  return { page, fetched, errors };
}

t.test('a run report shows the timeline bars and the nemesis bands, offline', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kvapp-report-browser-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { ops } = await writeFixture(dir, { opsPerClient: 220, clients: 5, keys: 4 });
  const { page, fetched, errors } = await open(t, await writeRunReport(dir));
  t.equal(await page.locator('#timeline rect.op').count(), ops, 'one bar per operation');
  t.ok((await page.locator('#timeline rect.op.ok').count()) > 0);
  t.ok((await page.locator('#timeline rect.op.info').count()) > 0);
  t.equal(await page.locator('#timeline rect.nemesis-band').count(), 2);
  t.same(await page.locator('#timeline .nemesis-label').allTextContents(), ['partition-halves', 'kill']);
  t.equal(await page.locator('svg.chart').count(), 2);
  t.equal(await page.locator('svg.chart path.series').count(), 6, 'p50/p99/max and ok/fail/info');
  const bar = page.locator('#timeline rect.op.ok').nth(10);
  await bar.hover({ force: true });
  await page.locator('#tip').waitFor({ state: 'visible' });
  t.match(await page.locator('#tip').textContent(), /^process \d+ · (read|write|cas) k\d .* · ok · [\d.]+ ms/);
  const png = await page.screenshot({ fullPage: false });
  t.ok(png.length > 10_000 && png.subarray(1, 4).toString() === 'PNG', 'a screenshot');
  const shot = join(dir, 'chaos-report.png');
  await writeFile(shot, png);
  t.same(await readFile(shot), png, 'the screenshot is written to the temp dir');
  if (screenshotCopyPath !== undefined && screenshotCopyPath !== '') {
    const target = resolve(screenshotCopyPath);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, png);
    t.comment(`screenshot copied to ${target}`);
  }
  t.same(fetched, [], 'nothing fetched');
  t.same(errors, [], 'no script errors');
});

t.test("an invalid run's report steps through the checker's counterexample", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kvapp-report-browser-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFixture(dir, { opsPerClient: 60, staleRead: true });
  const { page, fetched, errors } = await open(t, await writeRunReport(dir));
  t.equal(await page.locator('#timeline rect.op.marked').count(), 1);
  const frame = page.frameLocator('iframe.counterexample');
  const section = frame.locator('section.key-section[data-key="k0"]');
  await section.waitFor();
  t.ok((await frame.locator('.op-bar').count()) > 0, 'the checker draws the key');
  t.equal(await frame.locator('.op-bar.blocked').count(), 1);
  const steps = Number(await section.getAttribute('data-step'));
  t.ok(steps > 0);
  await frame.locator('.btn-prev').click();
  t.equal(Number(await section.getAttribute('data-step')), steps - 1, 'prev steps back');
  const height = await page.locator('iframe.counterexample').evaluate((f) => (f as HTMLIFrameElement).getBoundingClientRect().height);
  t.ok(height > 200, `the frame grew to its content (${height}px)`);
  t.same(fetched, []);
  t.same(errors, []);
});

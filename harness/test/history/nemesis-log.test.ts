import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryRecorder } from '../../src/history/recorder.js';
import { NemesisLog } from '../../src/history/nemesis-log.js';
import type { NemesisEvent } from '../../src/history/nemesis-log.js';
import { RunClock } from '../../src/history/run-clock.js';

const dir = mkdtempSync(join(tmpdir(), 'kvapp-nemesis-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const read = (path: string): NemesisEvent[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as NemesisEvent);

t.test('start/end pairs with detail, on the clock it was given', async (t) => {
  let ns = 0n;
  const clock = new RunClock(() => (ns += 10n));
  const path = join(dir, 'a.jsonl');
  const log = new NemesisLog(path, { clock });
  await log.start('partition', { kind: 'halves', groups: [['n1', 'n2'], ['n3']] });
  t.same(log.active, ['partition']);
  await log.start('pause', { node: 'n2' });
  await log.end('pause', { node: 'n2' });
  await log.end('partition');
  await log.close();
  t.strictSame(readFileSync(path, 'utf8').split('\n').filter(Boolean), [
    '{"time":10,"nemesis":"partition","phase":"start","detail":{"kind":"halves","groups":[["n1","n2"],["n3"]]}}',
    '{"time":20,"nemesis":"pause","phase":"start","detail":{"node":"n2"}}',
    '{"time":30,"nemesis":"pause","phase":"end","detail":{"node":"n2"}}',
    '{"time":40,"nemesis":"partition","phase":"end","detail":null}',
  ]);
});

t.test('misuse is a programmer error', async (t) => {
  const log = new NemesisLog(join(dir, 'b.jsonl'));
  t.throws(() => log.end('kill'), /not started/);
  await log.start('kill');
  t.throws(() => log.start('kill'), /already started/);
  await log.close();
  t.throws(() => log.start('other'), /closed/);
});

t.test('during() records the end even when the fault throws; close ends open periods', async (t) => {
  const path = join(dir, 'c.jsonl');
  const log = new NemesisLog(path);
  t.equal(await log.during('delay', { ms: 5 }, async () => 42), 42);
  await t.rejects(
    log.during('kill', { node: 'n1' }, async () => Promise.reject(new Error('boom'))),
    /boom/,
  );
  await log.start('bridge');
  await log.close();
  const events = read(path);
  t.same(
    events.map((e) => `${e.nemesis}:${e.phase}`),
    ['delay:start', 'delay:end', 'kill:start', 'kill:end', 'bridge:start', 'bridge:end'],
  );
  t.same(events.at(-1)!.detail, { unterminated: true });
  for (let i = 1; i < events.length; i++) t.ok(events[i]!.time >= events[i - 1]!.time, 'time never goes back');
});

t.test('history and nemesis log share one time base', async (t) => {
  const clock = new RunClock();
  const h = new HistoryRecorder(join(dir, 'h.jsonl'), { clock });
  const n = new NemesisLog(join(dir, 'n.jsonl'), { clock });
  const p = h.newProcess();
  await h.invoke(p, 'read', 'k');
  await n.start('partition');
  await h.ok(p, null);
  await n.end('partition');
  await h.close();
  await n.close();
  const hist = readFileSync(join(dir, 'h.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { time: number });
  const nem = read(join(dir, 'n.jsonl'));
  t.ok(hist[0]!.time <= nem[0]!.time && nem[0]!.time <= hist[1]!.time && hist[1]!.time <= nem[1]!.time, 'interleaved in call order');
});

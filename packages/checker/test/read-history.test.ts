import t from 'tap';

type Tap = typeof t;
import { gzipSync } from 'node:zlib';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryError } from '../src/history-error.js';
import { historyFromEvents, parseHistory, readHistoryFile } from '../src/read-history.js';
import type { History } from '../src/history.js';

const ev = (o: Record<string, unknown>): string => JSON.stringify({ time: 0, key: 'k', ...o });

function rejects(t: Tap, text: string, code: string, line: number, pattern: RegExp): void {
  try {
    parseHistory(text);
    t.fail(`expected ${code}`);
  } catch (err) {
    t.ok(err instanceof HistoryError, 'a HistoryError');
    const e = err as HistoryError;
    t.equal(e.code, code);
    t.equal(e.line, line);
    t.match(e.message, pattern);
  }
}

t.test('pairs invocations with completions, in invocation order', async (t) => {
  const h = parseHistory(
    [
      ev({ process: 1, type: 'invoke', f: 'write', value: 1 }),
      ev({ process: 2, type: 'invoke', f: 'read', value: null }),
      ev({ process: 2, type: 'ok', f: 'read', value: 1 }),
      ev({ process: 1, type: 'info', f: 'write', value: null }),
      ev({ process: 3, type: 'invoke', f: 'cas', value: [1, 2] }),
      ev({ process: 3, type: 'fail', f: 'cas', value: [1, 2], error: 'cas-mismatch' }),
      ev({ process: 4, type: 'invoke', f: 'cas', value: [null, 5] }),
      '',
    ].join('\n'),
  );
  t.equal(h.events.length, 7);
  t.equal(h.operations.length, 4);
  const [w, r, c, open] = h.operations;
  t.match(w, { f: 'write', input: 1, status: 'info', call: 0, ret: Infinity, retLine: 4 });
  t.match(r, { f: 'read', output: 1, status: 'ok', call: 1, ret: 2 });
  t.match(c, { f: 'cas', status: 'mismatch', error: 'cas-mismatch' });
  t.match(open, { status: 'info', ret: Infinity, retLine: null, retTime: null });
});

t.test('a delete is an operation with input null, whatever its completion echoes', async (t) => {
  const h = parseHistory(
    [
      ev({ process: 1, type: 'invoke', f: 'delete', value: null }),
      ev({ process: 1, type: 'ok', f: 'delete', value: null }),
      ev({ process: 2, type: 'invoke', f: 'delete' }),
      ev({ process: 2, type: 'info', f: 'delete', value: 'ignored' }),
      ev({ process: 3, type: 'invoke', f: 'delete', value: null }),
      ev({ process: 3, type: 'fail', f: 'delete', value: null, error: 'unavailable' }),
    ].join('\n'),
  );
  t.match(h.operations, [
    { f: 'delete', input: null, output: null, status: 'ok', call: 0, ret: 1 },
    { f: 'delete', input: null, status: 'info', ret: Infinity },
    { f: 'delete', status: 'fail', error: 'unavailable' },
  ]);
  t.match(h.events[0], { f: 'delete', type: 'invoke', value: null, line: 1 });
});

t.test('a fail other than cas-mismatch is kept as fail (the checker drops it)', async (t) => {
  const h = parseHistory(
    [
      ev({ process: 1, type: 'invoke', f: 'cas', value: [1, 2] }),
      ev({ process: 1, type: 'fail', f: 'cas', value: [1, 2], error: 'timeout' }),
    ].join('\n'),
  );
  t.equal(h.operations[0]!.status, 'fail');
});

t.test('malformed input names the line and the reason', async (t) => {
  rejects(t, `${ev({ process: 1, type: 'invoke', f: 'read' })}\n{oops`, 'HISTORY_BAD_JSON', 2, /line 2: bad JSON/);
  rejects(t, ev({ process: 1, type: 'ok', f: 'read', value: 1 }), 'HISTORY_ORPHAN_COMPLETION', 1, /no invocation in flight/);
  rejects(
    t,
    [ev({ process: 1, type: 'invoke', f: 'read' }), ev({ process: 1, type: 'invoke', f: 'write', value: 2 })].join('\n'),
    'HISTORY_PROCESS_BUSY',
    2,
    /still in flight/,
  );
  rejects(
    t,
    ev({ process: 1, type: 'invoke', f: 'increment' }),
    'HISTORY_UNKNOWN_F',
    1,
    /unknown f "increment" \(expected read, write, cas or delete\)/,
  );
  rejects(t, ev({ process: 1, type: 'invoke', f: 'delete', value: 5 }), 'HISTORY_BAD_FIELD', 1, /a delete invocation must have value null/);
  rejects(t, ev({ process: 1, type: 'begin', f: 'read' }), 'HISTORY_UNKNOWN_TYPE', 1, /unknown type "begin"/);
  rejects(
    t,
    [ev({ process: 1, type: 'invoke', f: 'read' }), ev({ process: 1, type: 'ok', f: 'write', value: 1 })].join('\n'),
    'HISTORY_COMPLETION_MISMATCH',
    2,
    /does not match/,
  );
  rejects(t, ev({ process: 1, type: 'invoke', f: 'write', value: 1.5 }), 'HISTORY_BAD_FIELD', 1, /string or an integer/);
  rejects(t, ev({ process: 1, type: 'invoke', f: 'cas', value: [1] }), 'HISTORY_BAD_FIELD', 1, /\[expected, new\]/);
  rejects(t, ev({ process: 1, type: 'invoke', f: 'read', time: 'x' }), 'HISTORY_BAD_FIELD', 1, /time must be a number/);
  rejects(t, '[1,2]', 'HISTORY_BAD_FIELD', 1, /JSON object/);
});

t.test('reads plain and gzip files; raw event objects are validated too', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'checker-'));
  const text = [ev({ process: 1, type: 'invoke', f: 'write', value: 'a' }), ev({ process: 1, type: 'ok', f: 'write', value: 'a' })].join(
    '\n',
  );
  writeFileSync(join(dir, 'h.jsonl'), text);
  writeFileSync(join(dir, 'h.jsonl.gz'), gzipSync(text));
  t.equal((await readHistoryFile(join(dir, 'h.jsonl'))).operations.length, 1);
  t.equal((await readHistoryFile(join(dir, 'h.jsonl.gz'))).operations[0]!.input, 'a');
  await t.rejects(readHistoryFile(join(dir, 'missing.jsonl')), { code: 'HISTORY_UNREADABLE' });
  t.throws(() => historyFromEvents([{ process: 1, type: 'ok', f: 'read', key: 'k', value: 1, time: 0 }]), {
    code: 'HISTORY_ORPHAN_COMPLETION',
  });
});

t.test('the fast line parser and JSON.parse agree, on the shapes it takes and on near misses', async (t) => {
  // Lines in the generator's and the harness recorder's key order (the fast path), and variants
  // that must fall back to JSON.parse: each gives the same events, or the same error.
  const lines = [
    '{"process":1,"type":"invoke","f":"write","key":"k4","value":2,"time":548,"index":0}',
    '{"process":1,"type":"ok","f":"write","key":"k4","value":2,"time":549.25,"index":1}',
    '{"process":"p","type":"invoke","f":"cas","key":7,"value":[null,"x"],"time":1e3,"index":2}',
    '{"process":"p","type":"fail","f":"cas","key":7,"value":[null,"x"],"error":"cas-mismatch","time":1001,"index":3}',
    '{"process":2,"type":"invoke","f":"read","key":"k4","value":null,"time":1002,"index":4}',
    '{"process":2,"type":"ok","f":"read","key":"k4","value":-0,"time":1003,"index":5,"error":"none"}',
    '{"process":3,"type":"invoke","f":"cas","key":"k4","value":[2,3],"time":1004}',
    '{"process":3,"type":"info","f":"cas","key":"k4","value":[2,3],"time":1005,"index":7}',
    '{"process":5,"type":"invoke","f":"delete","key":"k4","value":null,"time":1006,"index":8}',
    '{"process":5,"type":"ok","f":"delete","key":"k4","value":null,"time":1007,"index":9}',
    '{"process":6,"type":"invoke","f":"delete","key":"k4","value":null,"time":1008,"index":10}',
    '{"process":6,"type":"fail","f":"delete","key":"k4","value":[1,"x"],"error":"unavailable","time":1009,"index":11}',
  ];
  const variants = [
    '{"process":4,"type":"invoke","f":"write","key":"k\\u0034","value":5,"time":1}',
    '{"process":4,"type":"invoke","f":"write","key":"k4","value":05,"time":1}',
    '{"process":4,"type":"invoke","f":"write","key":"k4","value":1.0,"time":1}',
    '{"process":4,"type":"invoke","f":"write","key":"k4","value":12345678901234567890,"time":1}',
    '{"process":4,"type":"invoke","f":"write","key":"k4","value":5,"time":1e999}',
    '{"process":4,"type":"invoke","f":"read","key":"k4","value":5,"time":1}',
    '{"process":4,"type":"invoke","f":"cas","key":"k4","value":[1,null],"time":1}',
    '{"process":4,"type":"invoke","f":"cas","key":"k4","value":[1,2,3],"time":1}',
    '{"process":4,"type":"invoke","f":"write","key":"k4","value":5,"time":1,"index":1.5}',
    '{"process":4,"type":"invoke","f":"write","key":"k4","value":5,"time":1,"index":2,"index":3}',
    '{"process":4,"type":"invoke","f":"write","key":"k4","value":5,"time":1} ',
    '{"process":4,"type":"invoke","f":"write","key":"k4","value":5,"time":1}\r',
    '{"process":4,"type":"invoke","f":"write","key":"k4","value":5,"time":1,}',
    '{"process":4,"type":"invoke","f":"delete","key":"k4","value":5,"time":1}',
    '{"process":4,"type":"invoke","f":"delete","key":"k4","value":[null,1],"time":1}',
    '{"process":4,"type":"invoke","f":"delet","key":"k4","value":null,"time":1}',
    '{"process":4,"type":"invoke","f":"deletes","key":"k4","value":null,"time":1}',
    '{"process":4,"type":"begin","f":"write","key":"k4","value":5,"time":1}',
    '{"process":4,"type":"invokes","f":"write","key":"k4","value":5,"time":1}',
    '{"process":4,"type":"inf","f":"write","key":"k4","value":5,"time":1}',
    '{"process":4,"type":"invoke","f":"casx","key":"k4","value":[1,2],"time":1}',
    '{"process":4,"type":"invoke","f":"wr","key":"k4","value":5,"time":1}',
    '{"process":4.5,"type":"invoke","f":"write","key":"k4","value":5,"time":1}',
    '{"process":4,"type":"invoke","f":"write","key":"k4","value":"a\tb","time":1}',
  ];
  // What a reader gives back, as plain data (a read history builds its events and operations lazily).
  const plain = (h: History): unknown => ({ events: [...h.events], operations: [...h.operations] });
  const viaJson = (text: string): unknown => {
    try {
      return plain(
        historyFromEvents(
          text
            .split('\n')
            .filter((l) => l.trim() !== '')
            .map((l, i) => {
              try {
                return JSON.parse(l) as unknown;
              } catch {
                throw new HistoryError('HISTORY_BAD_JSON', i + 1, 'bad JSON');
              }
            }),
        ),
      );
    } catch (err) {
      return { code: (err as HistoryError).code, line: (err as HistoryError).line };
    }
  };
  const viaParse = (text: string): unknown => {
    try {
      return plain(parseHistory(text));
    } catch (err) {
      return { code: (err as HistoryError).code, line: (err as HistoryError).line };
    }
  };
  const all = lines.join('\n');
  t.same(viaParse(all), viaJson(all), 'the fast shapes');
  t.equal(parseHistory(all).operations[2]!.output, -0, 'a read of -0 stays -0');
  let fellBack = 0;
  for (const v of variants) {
    const text = `${lines.join('\n')}\n${v}`;
    const a = viaParse(text);
    t.same(a, viaJson(text), v);
    if ('code' in (a as object)) fellBack++;
  }
  t.ok(fellBack >= 10, 'most variants are errors, each the same one');
});

t.test('a history with 150,000 keys reads (one spread of every key overflowed the stack)', async (t) => {
  const lines: string[] = [];
  for (let k = 0; k < 150_000; k++) {
    lines.push(`{"process":${k % 7},"type":"invoke","f":"write","key":"k${k}","value":1,"time":${2 * k}}`);
    lines.push(`{"process":${k % 7},"type":"ok","f":"write","key":"k${k}","value":1,"time":${2 * k + 1}}`);
  }
  const h = parseHistory(lines.join('\n'));
  t.equal(h.operations.length, 150_000);
  t.equal(h.operations[149_999]!.key, 'k149999');
});

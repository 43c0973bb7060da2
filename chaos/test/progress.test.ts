import t from 'tap';
import type { RunProgress } from '@kvapp/harness';
import { ProgressLine } from '../src/progress.js';

const progress: RunProgress = { phase: 'faults', elapsedS: 12.3, ops: 456, ok: 400, nemesis: 'kill' };
const full = '[2/11] kill seed 1 · faults · 12.3 s · 456 ops (400 ok) · kill';

/** What one update writes on a terminal of `columns` columns, without the \r and the clear-to-end. */
function shown(t: Tap.Test, columns: number | undefined): string {
  let out = '';
  const line = new ProgressLine(
    (s) => {
      out += s;
    },
    true,
    columns,
  );
  line.update('[2/11] kill seed 1', progress);
  t.ok(out.startsWith('\r') && out.endsWith('\x1b[K'), 'rewritten in place');
  return out.slice(1, -'\x1b[K'.length);
}

t.test('a terminal that reports 0 columns gets the whole line, as one that reports none', async (t) => {
  t.equal(shown(t, 0), full);
  t.equal(shown(t, undefined), full);
  t.equal(shown(t, Number.NaN), full, 'nor a width that is not a number');
  t.equal(shown(t, -5), full);
});

t.test('a wide terminal gets the whole line; a narrow one the first columns - 1 characters', async (t) => {
  t.equal(shown(t, 200), full);
  t.equal(shown(t, full.length + 1), full, 'exactly wide enough: the last column stays free');
  t.equal(shown(t, full.length), full.slice(0, -1));
  t.equal(shown(t, 20), full.slice(0, 19));
  t.equal(shown(t, 1), '', 'one column: nothing fits without wrapping');
});

t.test('off a terminal: plain lines, never cut', async (t) => {
  let out = '';
  const line = new ProgressLine(
    (s) => {
      out += s;
    },
    false,
    10,
  );
  line.update('[2/11] kill seed 1', progress);
  t.equal(out, `${full}\n`);
});

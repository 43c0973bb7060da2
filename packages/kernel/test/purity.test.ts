import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findViolations, sourceFiles } from '../../core/test/support/purity-scan.js';

// The kernel runs in the simulator under a virtual clock: it must read no clock, set no timer,
// draw no randomness and do no I/O of its own (the same tripwire as the core's).
const srcDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

t.test('no file under packages/kernel/src does I/O, reads a clock, sets a timer or draws randomness', (t) => {
  const files = sourceFiles(srcDir);
  t.ok(files.length > 0, 'found source files');
  for (const f of files) t.strictSame(findViolations(readFileSync(f, 'utf8')), [], relative(srcDir, f));
  t.end();
});

t.test('the tripwire bites on a kernel-shaped offender', (t) => {
  t.ok(findViolations(`const deadline = Date.now() + 5000;`).length > 0, 'a wall-clock deadline');
  t.ok(findViolations(`const timer = setTimeout(() => reply(timeout), ms);`).length > 0, 'a timer per request');
  t.end();
});

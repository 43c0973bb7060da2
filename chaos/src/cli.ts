#!/usr/bin/env node
import { runScenario } from '@kvapp/harness';
import { main } from './main.js';

// Ctrl-C once: the current run stops, cleans up its processes and the table is printed.
// Twice: leave now (the harness' child registry still kills every node on exit).
const abort = new AbortController();
process.on('SIGINT', () => {
  if (abort.signal.aborted) process.exit(130);
  process.stderr.write('\nkvapp chaos: stopping after cleanup (Ctrl-C again to quit at once)\n');
  abort.abort();
});

const code = await main(process.argv.slice(2), {
  runner: runScenario,
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: process.stdout.isTTY === true,
  // undefined off a terminal and 0 on some pseudo-terminals: ProgressLine then assumes a width.
  columns: process.stdout.columns,
  signal: abort.signal,
});
process.exitCode = code;

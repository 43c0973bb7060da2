// The baseline the benchmark divides by: a Node process that reads the history and JSON.parses
// every line, which any checker written in JavaScript must at least do. Measured in the same run
// as kvapp-check, so the ratio holds on a shared, noisy machine where wall times do not.
import { readFileSync } from 'node:fs';

const text = readFileSync(process.argv[2], 'utf8');
let events = 0;
for (let start = 0; start < text.length;) {
  let end = text.indexOf('\n', start);
  if (end < 0) end = text.length;
  if (end > start) {
    JSON.parse(text.slice(start, end));
    events++;
  }
  start = end + 1;
}
process.stdout.write(`${events}\n`);

import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The workflow a push or pull request runs is the README's test command and the lint, on every
 * Node line the packages support. Read as text: the file is small and its shape is ours.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

t.test("the CI workflow runs the README's test command and the lint on push and pull request, on Node 20 and 22", (t) => {
  const readme = read('README.md');
  const workflow = read('.github/workflows/ci.yml');
  const testCommand = /^(npm ci && npm test)\b/m.exec(readme)?.[1];
  t.equal(testCommand, 'npm ci && npm test', 'the README opens with the test command');
  const runs = [...workflow.matchAll(/^\s*run:\s*(.+)$/gm)].map((m) => m[1]!.trim());
  t.ok(runs.includes(testCommand ?? ''), `a step runs it as written (steps: ${runs.join(' | ')})`);
  t.ok(runs.includes('npm run lint'), 'a step runs the lint');
  const on = /^on:\n((?:[ \t]+.*\n)+)/m.exec(workflow)?.[1] ?? '';
  t.match(on, /^\s+push:/m, 'on push');
  t.match(on, /^\s+pull_request:/m, 'and on pull request');
  const nodes = /node:\s*\[([^\]]*)\]/
    .exec(workflow)?.[1]
    ?.split(',')
    .map((v) => v.trim());
  t.same(nodes, ['20', '22'], 'on Node 20 and 22');
  const engines = (JSON.parse(read('package.json')) as { engines?: { node?: string } }).engines?.node ?? '';
  t.match(engines, /^>=\s*20\b/, `the lowest Node line is the one the packages require (engines ${engines})`);
  t.end();
});

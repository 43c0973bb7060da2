import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findViolations, sourceFiles } from './support/purity-scan.js';

/** The core must stay deterministic and I/O-free (docs/core-decisions.md); see support/purity-scan.ts. */

const srcDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

t.test('the scanner flags offending sources (self-check)', (t) => {
  const offenders: Record<string, string> = {
    'node: import': `import { readFileSync } from 'node:fs';`,
    'bare fs import': `import fs from 'fs';`,
    'bare fs/promises import': `import { open } from "fs/promises";`,
    'child_process import': `import * as cp from 'child_process';`,
    'crypto import': `import { randomBytes } from 'crypto';`,
    'side-effect import': `import 'net';`,
    'dynamic import': `const os = await import('os');`,
    require: `const x = require('node:os');`,
    'Date.now': `const t = Date.now();`,
    'new Date': `const d = new Date();`,
    'performance.now': `const t = performance.now();`,
    setTimeout: `setTimeout(() => {}, 1);`,
    setInterval: `setInterval(f, 1);`,
    setImmediate: `setImmediate(f);`,
    queueMicrotask: `queueMicrotask(f);`,
    'Math.random': `const r = Math.random();`,
    'crypto.getRandomValues': `crypto.getRandomValues(buf);`,
    'process.hrtime': `process.hrtime.bigint();`,
  };
  for (const [name, src] of Object.entries(offenders)) {
    t.ok(findViolations(src).length > 0, `flags ${name}`);
  }
  const clean = [
    `import { x } from './raft/types.js';`,
    `// Date.now() is forbidden here; we use ticks.`,
    `/* no setTimeout: time is tick() */ const ticks = 1;`,
    `const url = 'http://example.com'; const updated = 1;`,
    `const validated = new TextEncoder().encode('x');`,
  ];
  for (const src of clean) t.strictSame(findViolations(src), [], `clean: ${src}`);
  t.end();
});

t.test('no file under packages/core/src does I/O, reads a clock, sets a timer or draws randomness', (t) => {
  const files = sourceFiles(srcDir);
  t.ok(files.length > 0, 'found source files');
  for (const f of files) {
    const v = findViolations(readFileSync(f, 'utf8'));
    t.strictSame(v, [], relative(srcDir, f));
  }
  t.end();
});

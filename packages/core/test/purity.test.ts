import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The core must stay deterministic and I/O-free (README.md, packages/core): no Node built-in modules, no
 * clocks, no timers, no ambient randomness. This scans every source file of packages/core/src.
 * It works on text, so it is a tripwire, not a proof: a determined `globalThis['Da' + 'te']`
 * slips through; review catches those.
 */

const srcDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

// Every built-in module name, bare and with the node: prefix (fs, fs/promises, net, os, crypto, ...).
const builtins = new Set(builtinModules.flatMap((m) => [m, m.replace(/^node:/, '')]));

const forbidden: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bDate\b/, 'Date (a wall clock)'],
  [/\bperformance\s*\./, 'performance.now (a clock)'],
  [/\bprocess\s*\.\s*(hrtime|uptime|env|nextTick)\b/, 'process clock/env/nextTick'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask|clearTimeout|clearInterval)\b/, 'a timer'],
  [/\bMath\s*\.\s*random\b/, 'Math.random (use the injected seeded generator)'],
  [/\bcrypto\s*\.\s*(getRandomValues|randomUUID)\b/, 'ambient randomness'],
];

/** Blanks comments so that prose may mention what code must not use. Keeps line numbers. */
export function stripComments(src: string): string {
  return src
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"`\\])\/\/.*$/gm, (_m, pre: string) => pre);
}

const specifierPatterns = [
  /\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

export function findViolations(source: string): string[] {
  const code = stripComments(source);
  const found: string[] = [];
  const lineOf = (at: number) => code.slice(0, at).split('\n').length;
  for (const re of specifierPatterns) {
    for (const m of code.matchAll(re)) {
      const spec = m[1]!;
      if (spec.startsWith('node:') || builtins.has(spec) || builtins.has(spec.split('/')[0]!)) {
        found.push(`line ${lineOf(m.index!)}: imports built-in module '${spec}'`);
      }
    }
  }
  for (const [re, what] of forbidden) {
    const g = new RegExp(re.source, 'g');
    for (const m of code.matchAll(g)) found.push(`line ${lineOf(m.index!)}: uses ${what}`);
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(p);
    return /\.(ts|mts|cts|js|mjs|cjs)$/.test(d.name) ? [p] : [];
  });
}

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

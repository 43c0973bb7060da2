import { readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

/**
 * The tripwire of the purity tests: packages/core and packages/kernel must stay deterministic and
 * I/O-free: no Node built-in modules, no clocks, no timers, no ambient randomness. It works on
 * text, so it is a tripwire, not a proof: a determined `globalThis['Da' + 'te']` slips through;
 * review catches those.
 */

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
  return src.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`\\])\/\/.*$/gm, (_m, pre: string) => pre);
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

export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(p);
    return /\.(ts|mts|cts|js|mjs|cjs)$/.test(d.name) ? [p] : [];
  });
}

import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './run-command.js';

/**
 * Every package is ESM-only, and require() says so instead of failing with Node's
 * ERR_PACKAGE_PATH_NOT_EXPORTED: each `exports` entry has a "require" condition pointing at a
 * committed cjs/ file (docs/packaging.md). Uses the built dist/ of every workspace.
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const workspaces: string[] = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).workspaces;

/** Every import specifier the packages export, e.g. '@kvapp/client' and '@kvapp/client/protocol'. */
const specifiers = workspaces.flatMap((dir) => {
  const manifest = JSON.parse(readFileSync(join(repoRoot, dir, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, unknown>;
  };
  return Object.keys(manifest.exports)
    .filter((subpath) => subpath !== './package.json')
    .map((subpath) => ({ name: manifest.name, specifier: subpath === '.' ? manifest.name : `${manifest.name}${subpath.slice(1)}` }));
});

/** A CommonJS program: for each specifier, what require() returns compared with what import returns. */
const PROBE = `
(async () => {
  const report = {};
  for (const specifier of JSON.parse(process.argv[2])) {
    try {
      const required = require(specifier);
      const imported = await import(specifier);
      const keys = Object.keys(imported);
      const same = keys.length > 0 && Object.keys(required).length === keys.length && keys.every((key) => required[key] === imported[key]);
      report[specifier] = { same };
    } catch (error) {
      report[specifier] = { error: error.message };
    }
  }
  console.log(JSON.stringify(report));
})();
`;

const canRequireEsm = (process.features as { require_module?: boolean }).require_module === true;

async function probe(t: Test, nodeFlags: readonly string[]): Promise<Record<string, unknown>> {
  const dir = t.testdir({ 'probe.cjs': PROBE });
  const run = await runCommand('node', [...nodeFlags, join(dir, 'probe.cjs'), JSON.stringify(specifiers.map((s) => s.specifier))], {
    cwd: repoRoot,
    timeoutMs: 60_000,
  });
  t.equal(run.code, 0, 'the probe ran', { stderr: run.stderr });
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

const esmOnlyError = (name: string) => ({ error: `${name} is ESM-only: use import (or await import()) — see README` });

t.test(
  'require() of every package gives the very module that import gives where Node can require() ES modules, else one clear error',
  async (t) => {
    const report = await probe(t, []);
    for (const { name, specifier } of specifiers) t.same(report[specifier], canRequireEsm ? { same: true } : esmOnlyError(name), specifier);
  },
);

t.test('with require(esm) turned off, require() of every package throws one clear ESM-only error', async (t) => {
  const report = await probe(t, canRequireEsm ? ['--no-experimental-require-module'] : []);
  for (const { name, specifier } of specifiers) t.same(report[specifier], esmOnlyError(name), specifier);
});

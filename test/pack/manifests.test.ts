import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './run-command.js';

/**
 * Every workspace is ready to publish: its package.json says what it needs and where it comes
 * from, and its tarball (`npm pack --dry-run`) holds what the package.json points at, its README
 * and LICENSE, the sources its source maps name, and no build cache. Needs `npm run build`.
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

interface Manifest {
  readonly name: string;
  readonly private?: boolean;
  readonly license?: string;
  readonly description?: string;
  readonly repository?: { readonly type: string; readonly url: string; readonly directory?: string };
  readonly engines?: Record<string, string>;
  readonly exports: Record<string, string | Record<string, string>>;
  readonly bin?: Record<string, string>;
  readonly files?: readonly string[];
}

const root = readJson<Manifest & { workspaces: string[] }>(join(repoRoot, 'package.json'));
const workspaces = root.workspaces.map((dir) => ({ dir, manifest: readJson<Manifest>(join(repoRoot, dir, 'package.json')) }));

t.test('every package carries the root LICENSE (MIT, kvapp contributors), unchanged', async (t) => {
  const license = readFileSync(join(repoRoot, 'LICENSE'), 'utf8');
  t.match(license, /^MIT License\n\nCopyright \(c\) \d{4} kvapp contributors\n/);
  for (const { dir } of workspaces) t.equal(readFileSync(join(repoRoot, dir, 'LICENSE'), 'utf8'), license, dir);
});

t.test('every package.json is publish-ready', async (t) => {
  t.equal(root.license, 'MIT', 'the root package says MIT');
  for (const { dir, manifest } of workspaces) {
    t.test(manifest.name, async (t) => {
      t.equal(manifest.license, 'MIT');
      t.ok(manifest.description, 'has a description');
      t.same(manifest.engines, { node: '>=20' });
      t.same(manifest.repository, { ...root.repository, directory: dir }, 'the repository, with the package folder');
      const files = manifest.files ?? [];
      for (const entry of ['dist', '!dist/.tsbuildinfo', 'src', 'cjs', 'README.md', 'LICENSE'])
        t.ok(files.includes(entry), `files lists ${entry}`);
      t.equal(files.includes('bin'), manifest.bin !== undefined, 'files lists bin exactly when the package has commands');
      for (const [subpath, target] of Object.entries(manifest.exports)) {
        if (subpath === './package.json') continue;
        t.type(target, 'object', `${subpath} is conditional`);
        if (typeof target !== 'object') continue;
        t.same(
          Object.keys(target),
          ['types', 'import', 'require'],
          `${subpath}: types first (TypeScript reads conditions in order), then import, then require`,
        );
      }
      t.match(
        readFileSync(join(repoRoot, dir, 'README.md'), 'utf8'),
        /\n## Install\n[\s\S]*ESM only/,
        'the README has an Install section that says ESM only',
      );
    });
  }
});

interface PackedFile {
  readonly path: string;
}
interface Packed {
  readonly name: string;
  readonly files: readonly PackedFile[];
}

t.test('every tarball holds what its package.json points at, and its sources, but no build cache', { timeout: 120_000 }, async (t) => {
  const run = await runCommand('npm', ['pack', '--dry-run', '--json', ...workspaces.flatMap(({ dir }) => ['-w', dir])], {
    cwd: repoRoot,
    timeoutMs: 90_000,
  });
  t.equal(run.code, 0, 'npm pack --dry-run', { stderr: run.stderr });
  const tarballs = new Map((JSON.parse(run.stdout) as Packed[]).map((p) => [p.name, new Set(p.files.map((f) => f.path))]));
  for (const { dir, manifest } of workspaces) {
    t.test(manifest.name, async (t) => {
      const files = tarballs.get(manifest.name);
      if (!files) return t.fail('packed');
      for (const path of ['package.json', 'README.md', 'LICENSE', 'dist/index.js']) t.ok(files.has(path), `has ${path}`);
      t.same(
        [...files].filter((path) => path.endsWith('.tsbuildinfo')),
        [],
        'no TypeScript build cache',
      );
      const pointedAt = [
        ...Object.values(manifest.exports).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target))),
        ...Object.values(manifest.bin ?? {}),
      ];
      for (const target of pointedAt) t.ok(files.has(posix.normalize(target)), `has ${target}, which package.json points at`);
      const maps = [...files].filter((path) => path.endsWith('.map'));
      t.ok(maps.length > 0, 'ships source maps');
      const missingSources = maps.flatMap((map) => {
        const { sources } = readJson<{ sources: string[] }>(join(repoRoot, dir, map));
        return sources.map((source) => posix.join(posix.dirname(map), source)).filter((source) => !files.has(source));
      });
      t.same(missingSources, [], 'every source a map names is in the tarball');
      t.ok(existsSync(join(repoRoot, dir, 'dist/.tsbuildinfo')), 'the build cache exists (turbo caches it), so leaving it out is tested');
    });
  }
});

import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { offlineLockfile, type Lockfile } from './offline-lock.js';
import { runCommand, type CommandResult } from './run-command.js';

/**
 * What a user gets from the registry: the tarballs of core, client and node-server (and the
 * workspaces they depend on), installed OFFLINE into an empty project outside the repository, then
 * used from plain JavaScript. Needs `npm run build` first (`npm test` does it) and the npm cache
 * that `npm ci` filled (see docs/packaging.md).
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PACKED = ['packages/core', 'packages/client', 'packages/node-server'];
const PROJECT = 'pack-install';

interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly dependencies?: Record<string, string>;
}
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
/** What a failed command said, shown only when its assertion fails. */
const said = (r: CommandResult): { stdout: string; stderr: string } => ({ stdout: r.stdout.slice(-4000), stderr: r.stderr.slice(-4000) });

/** The workspace folders of `dirs` and of every workspace they depend on, dependencies first. */
function withWorkspaceDependencies(dirs: readonly string[]): string[] {
  const workspaces: string[] = readJson<{ workspaces: string[] }>(join(repoRoot, 'package.json')).workspaces;
  const dirOf = new Map(workspaces.map((dir) => [readJson<Manifest>(join(repoRoot, dir, 'package.json')).name, dir]));
  const ordered: string[] = [];
  const visit = (dir: string): void => {
    if (ordered.includes(dir)) return;
    const manifest = readJson<Manifest>(join(repoRoot, dir, 'package.json'));
    for (const name of Object.keys(manifest.dependencies ?? {})) {
      const dependency = dirOf.get(name);
      if (dependency) visit(dependency);
    }
    ordered.push(dir);
  };
  dirs.forEach(visit);
  return ordered;
}

/** The user's program: a one-node cluster, a put and a get through KvClient, then a clean stop. */
const CLUSTER_SCRIPT = `
import { CONFIG_DEFAULTS, startNode } from '@kvapp/node-server';
import { KvClient } from '@kvapp/client';

const node = await startNode({
  ...CONFIG_DEFAULTS,
  id: 1,
  dataDir: process.argv[2],
  peerListen: { host: '127.0.0.1', port: 0 },
  clientListen: { host: '127.0.0.1', port: 0 },
  httpListen: null,
  peers: new Map(),
  clientAddresses: new Map(),
  clusterSecret: 'pack-install-secret',
  logLevel: 'silent',
  tls: null,
  unsafeLocalReads: false,
});
const client = new KvClient({ endpoints: ['127.0.0.1:' + node.addresses.client.port], opDeadlineMs: 20000 });
try {
  const put = await client.put('greeting', 'hello');
  const get = await client.get('greeting');
  const resolved = ['@kvapp/core', '@kvapp/client', '@kvapp/node-server'].map((name) => import.meta.resolve(name));
  console.log(JSON.stringify({ put, get, resolved }));
} finally {
  client.close();
  await node.stop();
}
`;

/** A CommonJS user: what require() gives on this Node; the test runs it with and without require(esm). */
const REQUIRE_SCRIPT = `
try {
  console.log(JSON.stringify({ kvClient: typeof require('@kvapp/client').KvClient }));
} catch (error) {
  console.log(JSON.stringify({ error: error.message }));
}
`;

/** The first \`\`\`js block of a README: its example runs exactly as printed. */
function readmeExample(path: string): string {
  const match = /```js\n([\s\S]*?)```/.exec(readFileSync(path, 'utf8'));
  if (!match) throw new Error(`${path} has no js example`);
  return match[1]!;
}

t.test('the packed tarballs install offline into an empty project and run a one-node cluster', { timeout: 240_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'kvapp-pack-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const tarballs = join(work, 'tarballs');
  const project = join(work, 'project');
  mkdirSync(tarballs);
  mkdirSync(project);

  const dirs = withWorkspaceDependencies(PACKED);
  const pack = await runCommand('npm', ['pack', '--json', '--pack-destination', tarballs, ...dirs.flatMap((dir) => ['-w', dir])], {
    cwd: repoRoot,
    timeoutMs: 60_000,
  });
  t.equal(pack.code, 0, 'npm pack', said(pack));
  const packed = JSON.parse(pack.stdout) as { name: string; version: string; filename: string }[];
  t.equal(packed.length, dirs.length, 'one tarball per workspace');

  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: PROJECT, private: true, type: 'module' }, null, 2));
  const rootLock = readJson<Lockfile>(join(repoRoot, 'package-lock.json'));
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify(offlineLockfile(PROJECT, rootLock, dirs), null, 2));
  const install = await runCommand(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', ...packed.map((p) => join(tarballs, p.filename))],
    { cwd: project, timeoutMs: 120_000 },
  );
  t.equal(install.code, 0, 'npm install --offline (ENOTCACHED: run npm ci at the repository root first)', said(install));
  const tree = await runCommand('npm', ['ls', '--all', '--offline'], { cwd: project, timeoutMs: 60_000 });
  t.equal(tree.code, 0, 'npm ls: every dependency is present and in range', said(tree));

  const installed = (name: string): Manifest => readJson<Manifest>(join(project, 'node_modules', name, 'package.json'));
  const version = new Map(packed.map((p) => [p.name, p.version]));
  const serverDependencies = installed('@kvapp/node-server').dependencies ?? {};
  for (const name of ['@kvapp/core', '@kvapp/client']) {
    t.equal(serverDependencies[name], version.get(name), `node-server's tarball asks for the packed ${name}`);
    t.equal(installed(name).version, version.get(name), `the installed ${name} is the packed one`);
  }

  writeFileSync(join(project, 'cluster.mjs'), CLUSTER_SCRIPT);
  const cluster = await runCommand('node', ['cluster.mjs', join(project, 'data')], { cwd: project, timeoutMs: 60_000 });
  t.equal(cluster.code, 0, 'cluster.mjs ran to its end', said(cluster));
  const result = JSON.parse(cluster.stdout.trim().split('\n').pop() ?? '{}') as { put: unknown; get: unknown; resolved: string[] };
  t.same(result.put, { status: 'ok', prev: null }, 'the put is acknowledged');
  t.same(result.get, { status: 'ok', value: 'hello' }, 'the get reads it back');
  for (const url of result.resolved) {
    t.ok(fileURLToPath(url).startsWith(join(project, 'node_modules')), `${url} comes from the installed tarball`);
  }

  writeFileSync(join(project, 'core-example.mjs'), readmeExample(join(repoRoot, 'packages/core/README.md')));
  const example = await runCommand('node', ['core-example.mjs'], { cwd: project, timeoutMs: 60_000 });
  t.equal(example.code, 0, "the core README's example ran", said(example));
  t.equal(example.stdout.trim(), 'hello', "the core README's example prints what it says");

  writeFileSync(join(project, 'require-client.cjs'), REQUIRE_SCRIPT);
  const canRequireEsm = (process.features as { require_module?: boolean }).require_module === true;
  const withoutRequireEsm = await runCommand(
    'node',
    [...(canRequireEsm ? ['--no-experimental-require-module'] : []), 'require-client.cjs'],
    {
      cwd: project,
      timeoutMs: 30_000,
    },
  );
  t.same(
    JSON.parse(withoutRequireEsm.stdout),
    { error: '@kvapp/client is ESM-only: use import (or await import()) — see README' },
    'a Node that cannot require() ES modules gets one clear error',
  );
  if (canRequireEsm) {
    const withRequireEsm = await runCommand('node', ['require-client.cjs'], { cwd: project, timeoutMs: 30_000 });
    t.same(JSON.parse(withRequireEsm.stdout), { kvClient: 'function' }, 'a Node that can require() ES modules gets the package');
  }
});

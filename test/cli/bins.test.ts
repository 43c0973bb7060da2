import t from 'tap';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

// The commands as `npm ci && npm run build` leaves them: node_modules/.bin links to each package's
// committed bin/*.js shim, which imports the built dist/cli.js.
const root = fileURLToPath(new URL('../..', import.meta.url));

const commands = [
  { name: 'kvapp-node', dir: 'packages/node-server' },
  { name: 'kvapp', dir: 'packages/client' },
  { name: 'kvapp-check', dir: 'packages/checker' },
  { name: 'kvapp-chaos', dir: 'chaos' },
  { name: 'kvapp-sim', dir: 'packages/sim' },
] as const;

function run(name: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env['NODE_OPTIONS']; // tap's loader hooks are not the installed command's
  const r = spawnSync(join(root, 'node_modules', '.bin', name), args, { cwd: root, encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function packageJson(dir: string): { version: string; bin?: Record<string, string>; files?: string[] } {
  return JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as {
    version: string;
    bin?: Record<string, string>;
    files?: string[];
  };
}

for (const { name, dir } of commands) {
  t.test(`${name} --help and --version`, async (t) => {
    const help = run(name, ['--help']);
    t.equal(help.code, 0, 'help exits 0');
    t.match(help.stdout, new RegExp(`^usage: ${name} `, 'im'), 'usage line on stdout');
    t.equal(help.stderr, '', 'nothing on stderr');

    const version = run(name, ['--version']);
    t.equal(version.code, 0, 'version exits 0');
    t.equal(version.stdout, `${packageJson(dir).version}\n`, 'the version of its package.json');
  });

  t.test(`${name}: package.json bin is a committed executable shim`, async (t) => {
    const pkg = packageJson(dir);
    const target = pkg.bin?.[name];
    if (target === undefined) return t.fail(`${dir}/package.json has no bin ${name}`);
    const path = posix.join(dir, posix.normalize(target));
    t.equal(path, posix.join(dir, 'bin', `${name}.js`), 'bin points at bin/<name>.js, which exists before any build');
    t.ok(pkg.files?.includes('bin'), '"bin" is in files, so it is packed');
    accessSync(join(root, path), constants.X_OK);
    const staged = spawnSync('git', ['ls-files', '--stage', '--', path], { cwd: root, encoding: 'utf8' });
    t.equal(staged.status, 0, 'git ls-files ran');
    t.match(staged.stdout, /^100755 /, 'committed with the executable bit');
    const text = readFileSync(join(root, path), 'utf8');
    t.match(text, /^#!\/usr\/bin\/env node\n/, 'a node shebang');
    t.match(text, /^import '\.\.\/dist\/cli\.js';$/m, 'runs the built command');
  });
}

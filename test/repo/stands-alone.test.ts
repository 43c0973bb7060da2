import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository stands on its own: no file of it names a path outside it (a sibling folder of
 * the checkout, a folder of the machine it was written on) or a design page that is not in it.
 * The patterns are assembled from pieces so that this file does not match itself.
 */
const forbidden: readonly string[] = [['..', 'shared'].join('/'), `/${'work'}/`, `${'DESIGN'}.md`];

/** Lock files list registry URLs and hashes, not references of ours. */
const exempt: ReadonlySet<string> = new Set(['package-lock.json']);

/**
 * Folders the walk skips when there is no git to ask: what the repository's .gitignore keeps out
 * (build output, caches, run folders) and git's own folder.
 */
const generatedDirs: ReadonlySet<string> = new Set(['.git', 'node_modules', 'dist', 'store', '.turbo', '.tap', 'coverage']);
const generatedSuffixes: readonly string[] = ['.tsbuildinfo', '.log'];

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The repository's files per git (tracked, plus new files not ignored), or null without git. */
function gitFiles(dir: string): string[] | null {
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 * 1024 * 1024,
    });
    // A file deleted in the working tree but still in the index has nothing left to read.
    return out.split('\0').filter((f) => f !== '' && existsSync(join(dir, f)));
  } catch {
    return null; // no git binary, or not a git checkout (e.g. an unpacked tarball)
  }
}

/** Every regular file under `dir` except generated ones; symlinks are not followed. */
function walkFiles(dir: string): string[] {
  const files: string[] = [];
  const pending = [dir];
  while (pending.length > 0) {
    const at = pending.pop()!;
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) {
        if (!generatedDirs.has(entry.name)) pending.push(path);
      } else if (entry.isFile() && !generatedSuffixes.some((s) => entry.name.endsWith(s))) {
        files.push(relative(dir, path));
      }
    }
  }
  return files.sort();
}

/** `file:line: pattern` for every forbidden pattern in the given files (paths relative to `dir`). */
function findReferences(dir: string, files: readonly string[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    if (exempt.has(file.split('/').pop()!)) continue;
    const bytes = readFileSync(join(dir, file));
    for (const pattern of forbidden) {
      let at = bytes.indexOf(pattern);
      while (at >= 0) {
        const line = bytes.subarray(0, at).toString('latin1').split('\n').length;
        found.push(`${file}:${line}: ${pattern}`);
        at = bytes.indexOf(pattern, at + pattern.length);
      }
    }
  }
  return found;
}

t.test('no file of the repository names a path outside it', async (t) => {
  const git = gitFiles(root);
  const files = git ?? walkFiles(root);
  t.ok(
    files.includes('package.json') && files.some((f) => f.startsWith('packages/checker/test/fixtures/jepsen-etcd/')),
    `the file list (${git === null ? 'directory walk' : 'git'}) covers the repository, the test fixtures included`,
  );
  t.same(findReferences(root, files), [], `no file contains any of ${forbidden.join(', ')}`);
});

t.test('the walk used without git finds a reference and skips only generated folders', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kvapp-stands-alone-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write('package.json', '{}\n');
  write('docs/ok.md', 'links only to docs/history-format.md\n');
  write('docs/bad.md', `line one\nsee ${forbidden[0]}/data\n`);
  write(`src/${forbidden[2]}`, 'a file named like the page is fine; its text is what counts\n');
  write('src/deep/code.ts', `// per ${forbidden[2]}\nconst p = '${forbidden[1]}main';\n`);
  write('package-lock.json', `"${forbidden[1]}"\n`);
  write('node_modules/x/index.js', `${forbidden[1]}\n`);
  write('packages/a/dist/index.js', `${forbidden[2]}\n`);
  write('store/run/history.jsonl', `${forbidden[1]}\n`);
  write('packages/a/x.tsbuildinfo', `${forbidden[1]}\n`);
  const files = walkFiles(dir);
  t.same(files, ['docs/bad.md', 'docs/ok.md', 'package-lock.json', 'package.json', `src/${forbidden[2]}`, 'src/deep/code.ts']);
  t.same(findReferences(dir, files), [
    `docs/bad.md:2: ${forbidden[0]}`,
    `src/deep/code.ts:2: ${forbidden[1]}`,
    `src/deep/code.ts:1: ${forbidden[2]}`,
  ]);
});

/** Lines a merge leaves when it could not combine two changes: a file holding them was committed unresolved. */
const conflictMarker = new RegExp(`^(${'<'.repeat(7)} |${'>'.repeat(7)} |${'='.repeat(7)}$)`, 'm');

t.test('no file of the repository holds an unresolved merge conflict', async (t) => {
  const files = (gitFiles(root) ?? walkFiles(root)).filter((f) => !exempt.has(f.split('/').pop()!));
  const conflicted = files.filter((f) => conflictMarker.test(readFileSync(join(root, f), 'latin1')));
  t.same(conflicted, [], 'no conflict markers');
  t.ok(conflictMarker.test(`a\n${'<'.repeat(7)} HEAD\nb\n`), 'the pattern finds a marker');
  t.notOk(conflictMarker.test('a\n<<< not one\n'), 'and only a marker');
});

/** The parts of an npm lockfile (version 3) that an offline install reads. */
export interface LockEntry {
  readonly name?: string;
  readonly version?: string;
  readonly integrity?: string;
  readonly link?: boolean;
  readonly optional?: boolean;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly [field: string]: unknown;
}

export interface Lockfile {
  readonly name: string;
  readonly lockfileVersion: 3;
  readonly requires: true;
  readonly packages: Record<string, LockEntry>;
}

/** The folder whose node_modules Node searches next, above a lockfile location ('' is the root). */
function parentLocation(location: string): string {
  const nested = location.lastIndexOf('/node_modules/');
  return nested >= 0 ? location.slice(0, nested) : '';
}

/** Where Node's resolution finds `name` from `location`, in the repository's installed tree. */
function resolveFrom(packages: Record<string, LockEntry>, location: string, name: string): string | null {
  for (let base = location; ; base = parentLocation(base)) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (base === '') return null;
  }
}

/**
 * A lockfile for a fresh project that installs the tarballs of `workspaceDirs`: every third-party
 * package they need, transitively, at the version and integrity this repository's lockfile pins.
 *
 * Why: npm 11 resolves a range (`ws@^8.23.0`) from the registry's full metadata, which `npm ci`
 * never fetches, so `npm install --offline <tarballs>` fails with ENOTCACHED even though every
 * tarball is in npm's cache. With each package pinned by integrity, npm takes the tarballs from
 * the cache and asks the registry nothing: the install is truly offline.
 *
 * Packages nested under a workspace (`packages/x/node_modules/y`) move under the installed
 * package (`node_modules/@scope/x/node_modules/y`); workspace links are left out, because the
 * workspaces themselves are installed from their tarballs.
 */
export function offlineLockfile(projectName: string, rootLock: Lockfile, workspaceDirs: readonly string[]): Lockfile {
  const repo = rootLock.packages;
  const installedLocation = (location: string): string => {
    for (const dir of workspaceDirs) {
      if (location.startsWith(`${dir}/`)) return `node_modules/${repo[dir]!.name}${location.slice(dir.length)}`;
    }
    return location;
  };
  const packages: Record<string, LockEntry> = {};
  const visited = new Set<string>();
  const pending = [...workspaceDirs];
  while (pending.length > 0) {
    const location = pending.pop()!;
    if (visited.has(location)) continue;
    visited.add(location);
    const entry = repo[location];
    if (!entry) throw new Error(`${location} is not in the repository's package-lock.json`);
    const required = Object.keys(entry.dependencies ?? {});
    const optional = Object.keys(entry.optionalDependencies ?? {});
    for (const name of [...required, ...optional]) {
      const found = resolveFrom(repo, location, name);
      if (found === null) {
        if (optional.includes(name)) continue; // another platform's optional package
        throw new Error(`${location} needs ${name}, which the repository's package-lock.json does not hold`);
      }
      if (repo[found]!.link) continue;
      packages[installedLocation(found)] = repo[found]!;
      pending.push(found);
    }
  }
  return { name: projectName, lockfileVersion: 3, requires: true, packages: { '': { name: projectName }, ...packages } };
}

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { faketimeText, parseFaketimeText, realClock } from './fake-clock.js';
import type { FakeClock } from './fake-clock.js';

/**
 * The files around Debian's libfaketime (scripts/ensure-libfaketime.sh installs it): where the
 * library is, each node's timestamp file, and the environment that preloads it. The clock itself
 * is fake-clock.ts's arithmetic.
 */

/** Debian's multiarch library folders: /usr/lib/<triplet>/faketime/. */
const libRoot = '/usr/lib';
const libName = 'libfaketime.so.1';
/** The start of the multiarch triplet of each Node architecture, tried first. */
const tripletOf: Readonly<Record<string, string>> = {
  x64: 'x86_64-',
  arm64: 'aarch64-',
  ia32: 'i386-',
  arm: 'arm-',
  ppc64: 'powerpc64le-',
  s390x: 's390x-',
};

/** The library under `root`'s multiarch folders (`<root>/<triplet>/faketime/`), this machine's triplet first; null if none. */
export function libfaketimeUnder(root: string): string | null {
  const triplets = existsSync(root) ? readdirSync(root).filter((d) => existsSync(join(root, d, 'faketime', libName))) : [];
  const own = tripletOf[process.arch];
  const choice = triplets.find((d) => own !== undefined && d.startsWith(own)) ?? triplets[0];
  return choice === undefined ? null : join(root, choice, 'faketime', libName);
}

let found: string | null = null;

/** The library's path; throws one line naming the fix when it is not installed. */
export function libfaketimePath(): string {
  found ??= libfaketimeUnder(libRoot);
  if (found === null)
    throw new Error(
      `libfaketime not found (${libRoot}/*/faketime/${libName}): run scripts/ensure-libfaketime.sh (Debian package libfaketime)`,
    );
  return found;
}

/** A node's timestamp file: `<runDir>/faults/<id>.faketime`. */
export function clockFile(runDir: string, id: string): string {
  return join(runDir, 'faults', `${id}.faketime`);
}

/**
 * The environment that puts a node's process on its timestamp file, which is created reading the
 * real clock when missing. An existing file is kept: a node restarted with a new environment (a
 * failpoint variant) keeps the offset its clock gathered.
 */
export function fakeClockEnv(runDir: string, id: string): Record<string, string> {
  const lib = libfaketimePath();
  const file = clockFile(runDir, id);
  if (!existsSync(file)) writeClock(file, realClock);
  return {
    LD_PRELOAD: lib,
    FAKETIME_TIMESTAMP_FILE: file,
    // Re-read the file on every clock read, so that the harness can change a running process's clock.
    FAKETIME_NO_CACHE: '1',
  };
}

/** The setting in a node's file; a file that is not one of ours (or is gone) counts as the real clock. */
export function readClock(file: string): FakeClock {
  try {
    return parseFaketimeText(readFileSync(file, 'utf8')) ?? realClock;
  } catch {
    return realClock;
  }
}

/**
 * Writes a setting through a temporary file and a rename: libfaketime reads the file on every clock
 * read, and must never see it half written.
 */
export function writeClock(file: string, clock: FakeClock): void {
  mkdirSync(join(file, '..'), { recursive: true });
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, faketimeText(clock));
  renameSync(temporary, file);
}

import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { link, open, readFile, realpath, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fsyncDir, mkdirDurable, syncFile } from '../wal/file-sync.js';
import { StartError } from './start-error.js';

/** What a LOCK file says about the process holding it. */
export interface LockHolder {
  readonly pid: number;
  /** Only reported, never judged: a re-created container has a new host name, same processes. */
  readonly hostname: string;
  /** The kernel's boot id: a holder from an earlier boot is dead whatever its pid says now. */
  readonly bootId: string | null;
  /** The holder's start time in clock ticks since boot (/proc/<pid>/stat): tells a reused pid apart. */
  readonly startTime: string | null;
  /**
   * The holder's PID namespace (/proc/self/ns/pid). Its pid means something only there: a holder
   * in another namespace (another container on this host) is judged by the LOCK's heartbeat.
   */
  readonly pidNamespace: string | null;
  /** Random per acquisition: tells this holder's file apart from a newer one with the same pid. */
  readonly token: string;
  /** When it was taken (ISO time), for the operator reading a refusal. */
  readonly since: string;
}

export type LockLog = (level: 'info' | 'warn', message: string, fields: Record<string, unknown>) => void;

export const LOCK_FILE = 'LOCK';

/** Rounds of "find a stale lock, take it over, try again" before giving up on a contended dir. */
const ACQUIRE_ATTEMPTS_MAX = 5;

/** A holder touches its LOCK this often, so that a process in another PID namespace can tell it lives. */
export const LOCK_HEARTBEAT_MS = 2_000;
/** A LOCK of another PID namespace untouched for this long is stale: its holder stopped beating. */
export const LOCK_HEARTBEAT_STALE_MS = 15_000;

/** Data dirs (real paths) locked by this process: a second startNode() in-process is refused too. */
const heldHere = new Set<string>();

/**
 * An exclusive lock on a data dir, so that two nodes never write one WAL. Node has no flock, so
 * it is a `LOCK` file naming its holder, created atomically (written and fsynced under a private
 * name, then hard-linked to `LOCK`, which fails if it exists: the file is never seen half
 * written). A LOCK whose holder is dead — no such pid, a zombie, a pid reused by a process
 * started at another time, or a holder from an earlier boot — is stale and is taken over, which
 * is logged. Liveness is judged on this machine's process table only: a data dir on a network
 * filesystem shared by several machines is not protected (see README, "Data dir lock").
 */
export class DataDirLock {
  private released = false;
  private readonly heartbeat: NodeJS.Timeout;

  private constructor(
    readonly dataDir: string,
    private readonly key: string,
    readonly holder: LockHolder,
  ) {
    const path = join(dataDir, LOCK_FILE);
    this.heartbeat = setInterval(() => {
      const now = new Date();
      utimes(path, now, now).catch(() => {}); // a missing LOCK is reported at release, not here
    }, LOCK_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  static async acquire(dataDir: string, log: LockLog = () => {}): Promise<DataDirLock> {
    await mkdirDurable(dataDir);
    const key = await realpath(dataDir);
    if (heldHere.has(key)) {
      throw new StartError('DATA_DIR_LOCKED', `data dir ${dataDir} is in use by a node of this same process (pid ${process.pid})`, {
        dataDir,
        pid: process.pid,
      });
    }
    heldHere.add(key);
    try {
      const holder = await takeLockFile(dataDir, log);
      return new DataDirLock(dataDir, key, holder);
    } catch (error) {
      heldHere.delete(key);
      throw error;
    }
  }

  /** Removes the LOCK if it is still ours. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.heartbeat);
    const path = join(this.dataDir, LOCK_FILE);
    try {
      const current = parseHolder(await readFile(path, 'utf8'));
      if (current?.token === this.holder.token) {
        await unlink(path);
        await fsyncDir(this.dataDir);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    } finally {
      heldHere.delete(this.key);
    }
  }
}

async function takeLockFile(dataDir: string, log: LockLog): Promise<LockHolder> {
  const path = join(dataDir, LOCK_FILE);
  const me: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    bootId: readBootId(),
    startTime: readProcStat(process.pid)?.startTime ?? null,
    pidNamespace: readPidNamespace(),
    token: randomBytes(8).toString('hex'),
    since: new Date().toISOString(),
  };
  const mine = join(dataDir, `${LOCK_FILE}.${me.token}.tmp`);
  const fh = await open(mine, 'w');
  try {
    await fh.writeFile(`${JSON.stringify(me)}\n`);
    await syncFile(fh, mine, 'fsync');
  } finally {
    await fh.close();
  }
  try {
    for (let attempt = 0; attempt < ACQUIRE_ATTEMPTS_MAX; attempt++) {
      if (await linkOrCopy(mine, path)) {
        await fsyncDir(dataDir);
        return me;
      }
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
        throw error;
      }
      const holder = parseHolder(text);
      const dead = holder === null ? 'the LOCK file is unreadable' : whyDead(holder, path);
      if (dead === null) {
        const elsewhere =
          holder!.pidNamespace !== null && holder!.pidNamespace !== me.pidNamespace ? ' in another PID namespace (container)' : '';
        throw new StartError(
          'DATA_DIR_LOCKED',
          `data dir ${dataDir} is in use by process ${holder!.pid}${elsewhere}${holder!.hostname === me.hostname ? '' : ` on host ${holder!.hostname}`} (locked since ${holder!.since}; ${path})`,
          { dataDir, pid: holder!.pid },
        );
      }
      if (await removeIfUnchanged(path, text, dataDir, mine)) {
        log('warn', 'took over the lock of a dead process', { dataDir, stalePid: holder?.pid ?? null, reason: dead });
      }
    }
    throw new StartError(
      'DATA_DIR_LOCKED',
      `data dir ${dataDir}: could not take its LOCK in ${ACQUIRE_ATTEMPTS_MAX} attempts; other processes keep taking it`,
      { dataDir, pid: null },
    );
  } finally {
    await unlink(mine).catch(() => {});
  }
}

/** Places `from` at `to` unless `to` exists. Falls back to an exclusive create where hard links are not supported. */
async function linkOrCopy(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
  }
  try {
    await writeFile(to, await readFile(from), { flag: 'wx' });
    const fh = await open(to, 'r');
    await syncFile(fh, to, 'fsync').finally(() => fh.close());
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** A takeover guard older than this was left by a starter that died mid-takeover. */
const TAKEOVER_STALE_MS = 15_000;

/**
 * Removes the stale LOCK only if it is still the one judged stale. Takeovers are serialised by
 * `LOCK.takeover`, hard-linked from our own holder file (so at most one starter removes a LOCK at
 * a time): without it, two starters judging the same stale LOCK could each remove what the other
 * had just linked. A guard left by a dead starter is dropped once it is older than
 * TAKEOVER_STALE_MS. Returns whether the stale file was removed.
 */
async function removeIfUnchanged(path: string, judged: string, dataDir: string, mine: string): Promise<boolean> {
  const guard = `${path}.takeover`;
  if (!(await linkOrCopy(mine, guard))) {
    try {
      if (Date.now() - statSync(guard).mtimeMs > TAKEOVER_STALE_MS) await unlink(guard);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 20)); // another starter is taking over: let it finish
    return false;
  }
  try {
    let current: string;
    try {
      current = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    if (current !== judged) return false;
    await unlink(path);
    await fsyncDir(dataDir);
    return true;
  } finally {
    await unlink(guard).catch(() => {});
  }
}

function parseHolder(text: string): LockHolder | null {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (!Number.isSafeInteger(value.pid) || (value.pid ?? 0) <= 0 || typeof value.token !== 'string' || typeof value.hostname !== 'string')
      return null;
    return {
      pid: value.pid!,
      hostname: value.hostname,
      bootId: typeof value.bootId === 'string' ? value.bootId : null,
      startTime: typeof value.startTime === 'string' ? value.startTime : null,
      pidNamespace: typeof value.pidNamespace === 'string' ? value.pidNamespace : null,
      token: value.token,
      since: typeof value.since === 'string' ? value.since : 'an unknown time',
    };
  } catch {
    return null;
  }
}

/**
 * Why `holder` (of the LOCK at `path`) is certainly dead, or null when it may be alive (and so
 * holds the lock). Pids are judged only within our own PID namespace; a holder in another one is
 * dead only once its heartbeat stopped.
 */
export function whyDead(holder: LockHolder, path: string): string | null {
  const bootId = readBootId();
  if (holder.bootId !== null && bootId !== null && holder.bootId !== bootId) return 'the machine has restarted since it was taken';
  const namespace = readPidNamespace();
  if (holder.pidNamespace !== null && namespace !== null && holder.pidNamespace !== namespace) {
    let silentMs: number;
    try {
      silentMs = Date.now() - statSync(path).mtimeMs;
    } catch {
      return null; // gone meanwhile: the next attempt sees
    }
    return silentMs > LOCK_HEARTBEAT_STALE_MS
      ? `its holder, in another PID namespace, has not touched it for ${Math.round(silentMs / 1000)} s`
      : null;
  }
  if (holder.pid === process.pid) {
    // Had this process taken it, heldHere would have refused before; so it is from an earlier
    // process that had our pid (a container's pid 1 after a restart, say).
    return `pid ${holder.pid} is this process, which did not take it`;
  }
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return `no process ${holder.pid}`;
  }
  const stat = readProcStat(holder.pid);
  if (stat?.state === 'Z') return `process ${holder.pid} has exited (a zombie)`;
  if (stat !== null && holder.startTime !== null && stat.startTime !== holder.startTime) {
    return `pid ${holder.pid} now belongs to a process started at another time`;
  }
  return null;
}

/** This process's PID namespace ('pid:[4026531836]'), or null where there is no /proc. */
function readPidNamespace(): string | null {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
}

function readBootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

/** State and start time of a process from /proc (Linux); null where there is no /proc. */
function readProcStat(pid: number): { state: string; startTime: string } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself hold spaces and parentheses.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, startTime: fields[19]! };
  } catch {
    return null;
  }
}

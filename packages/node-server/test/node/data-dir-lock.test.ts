import t, { type Test } from 'tap';
import { once } from 'node:events';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataDirLock, LOCK_FILE, type LockHolder } from '../../src/node/data-dir-lock.js';
import { StartError } from '../../src/node/start-error.js';
import { tmpDir } from '../wal/tmp-dir.js';
import { DIST_INDEX, spawnModule, waitFor } from './node-support.js';

type Logged = { level: string; message: string; fields: Record<string, unknown> };
const recorder = () => {
  const logged: Logged[] = [];
  return {
    logged,
    log: (level: 'info' | 'warn', message: string, fields: Record<string, unknown>) => logged.push({ level, message, fields }),
  };
};

/** A separate process that takes the lock on `dir` and holds it until killed. */
async function holderProcess(t: Test, dir: string) {
  const child = spawnModule(
    t,
    `
    import { DataDirLock } from ${JSON.stringify(DIST_INDEX)};
    await DataDirLock.acquire(${JSON.stringify(dir)});
    console.log('locked');
    setInterval(() => {}, 1 << 30);
  `,
  );
  await waitFor('the child takes the lock', () => child.output().includes('locked') || child.exitCode !== null);
  t.match(child.output(), /locked/, 'the child holds the lock');
  return child;
}

const readLock = (dir: string): LockHolder => JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockHolder;
const editLock = (dir: string, change: Partial<LockHolder>) =>
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ ...readLock(dir), ...change }));

t.test('a second lock on the same dir in this process is refused naming this pid; once released it can be taken', async (t) => {
  const dir = tmpDir(t);
  const first = await DataDirLock.acquire(dir);
  const refused = await DataDirLock.acquire(dir).catch((error: unknown) => error);
  t.ok(refused instanceof StartError);
  t.equal((refused as StartError).code, 'DATA_DIR_LOCKED');
  t.match((refused as StartError).message, new RegExp(`pid ${process.pid}\\b`));
  t.equal(readLock(dir).token, first.holder.token, 'the refused attempt left the LOCK alone');
  await first.release();
  t.notOk(existsSync(join(dir, LOCK_FILE)), 'released: the LOCK is gone');
  const again = await DataDirLock.acquire(dir);
  await again.release();
});

t.test('a live holder in another process is respected: refused, naming its pid', async (t) => {
  const dir = tmpDir(t);
  const child = await holderProcess(t, dir);
  const { logged, log } = recorder();
  const refused = await DataDirLock.acquire(dir, log).catch((error: unknown) => error);
  t.ok(refused instanceof StartError, String(refused));
  t.equal((refused as StartError).code, 'DATA_DIR_LOCKED');
  t.equal((refused as StartError).details['pid'], child.pid);
  t.match((refused as StartError).message, new RegExp(`in use by process ${child.pid}\\b`));
  t.notMatch((refused as StartError).message, /\n/, 'one line');
  t.equal(readLock(dir).pid, child.pid, 'the holder keeps its LOCK');
  t.same(logged, []);
});

t.test('a LOCK left by a killed process is taken over, and that is logged', async (t) => {
  const dir = tmpDir(t);
  const child = await holderProcess(t, dir);
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
  t.equal(readLock(dir).pid, child.pid, 'the dead process left its LOCK behind');
  const { logged, log } = recorder();
  const lock = await DataDirLock.acquire(dir, log);
  t.equal(readLock(dir).pid, process.pid);
  t.equal(readLock(dir).token, lock.holder.token);
  t.equal(logged.length, 1);
  t.equal(logged[0]!.level, 'warn');
  t.match(logged[0]!.message, /took over the lock of a dead process/);
  t.equal(logged[0]!.fields['stalePid'], child.pid);
  t.match(String(logged[0]!.fields['reason']), new RegExp(`no process ${child.pid}`));
  await lock.release();
});

t.test('a live pid that started at another time than the holder is a reused pid: taken over', async (t) => {
  const dir = tmpDir(t);
  const child = await holderProcess(t, dir);
  t.type(readLock(dir).startTime, 'string', 'the start time is stored (Linux /proc)');
  editLock(dir, { startTime: '1' });
  const { logged, log } = recorder();
  const lock = await DataDirLock.acquire(dir, log);
  t.equal(logged[0]?.fields['stalePid'], child.pid);
  t.match(String(logged[0]?.fields['reason']), /started at another time/);
  await lock.release();
});

t.test('a holder from an earlier boot is dead whatever its pid: taken over', async (t) => {
  const dir = tmpDir(t);
  await holderProcess(t, dir);
  t.type(readLock(dir).bootId, 'string');
  editLock(dir, { bootId: 'an-earlier-boot' });
  const { logged, log } = recorder();
  const lock = await DataDirLock.acquire(dir, log);
  t.match(String(logged[0]?.fields['reason']), /restarted/);
  await lock.release();
});

t.test('a LOCK of this pid not taken by this process (a container restarted as pid 1) is taken over', async (t) => {
  const dir = tmpDir(t);
  const first = await DataDirLock.acquire(dir);
  const token = first.holder.token;
  // Forget it without removing the file, as a previous process with our pid would have left it.
  writeFileSync(join(dir, 'saved'), readFileSync(join(dir, LOCK_FILE)));
  await first.release();
  writeFileSync(join(dir, LOCK_FILE), readFileSync(join(dir, 'saved')));
  t.equal(readLock(dir).token, token);
  const { logged, log } = recorder();
  const lock = await DataDirLock.acquire(dir, log);
  t.match(String(logged[0]?.fields['reason']), /is this process, which did not take it/);
  await lock.release();
});

t.test('an unreadable LOCK is taken over', async (t) => {
  const dir = tmpDir(t);
  writeFileSync(join(dir, LOCK_FILE), 'garbage');
  const { logged, log } = recorder();
  const lock = await DataDirLock.acquire(dir, log);
  t.match(String(logged[0]?.fields['reason']), /unreadable/);
  await lock.release();
});

t.test('release leaves a LOCK that is no longer ours', async (t) => {
  const dir = tmpDir(t);
  const lock = await DataDirLock.acquire(dir);
  editLock(dir, { token: 'someone-else' });
  await lock.release();
  t.ok(existsSync(join(dir, LOCK_FILE)));
});

t.test('a holder in another PID namespace is judged by its heartbeat, not by a pid that means nothing here', async (t) => {
  const dir = tmpDir(t);
  const first = await DataDirLock.acquire(dir);
  t.type(first.holder.pidNamespace, 'string', 'the LOCK names its PID namespace');
  // The same LOCK as a process of another container would leave it: our pid (alive or not here,
  // it says nothing), another namespace, and a fresh heartbeat.
  writeFileSync(join(dir, 'saved'), readFileSync(join(dir, LOCK_FILE)));
  await first.release();
  writeFileSync(join(dir, LOCK_FILE), readFileSync(join(dir, 'saved')));
  editLock(dir, { pidNamespace: 'pid:[1]' });
  const refused = await DataDirLock.acquire(dir).catch((e: unknown) => e);
  t.ok(refused instanceof StartError && refused.code === 'DATA_DIR_LOCKED', 'a beating holder elsewhere is respected');
  t.match((refused as Error).message, /in another PID namespace/);
  const old = new Date(Date.now() - 60_000);
  utimesSync(join(dir, LOCK_FILE), old, old);
  const { logged, log } = recorder();
  const lock = await DataDirLock.acquire(dir, log);
  t.match(String(logged[0]?.fields['reason']), /another PID namespace, has not touched it for \d+ s/, 'a silent one is taken over');
  await lock.release();
});

t.test('starters racing for one stale LOCK: exactly one of them takes it', async (t) => {
  const dir = tmpDir(t);
  const first = await DataDirLock.acquire(dir);
  writeFileSync(join(dir, 'saved'), readFileSync(join(dir, LOCK_FILE)));
  await first.release();
  // A LOCK of a process that is certainly dead (another boot), for every racer to judge stale.
  writeFileSync(join(dir, LOCK_FILE), readFileSync(join(dir, 'saved')));
  editLock(dir, { bootId: 'an-earlier-boot' });
  const racers = Array.from({ length: 4 }, () =>
    spawnModule(
      t,
      `
      import { DataDirLock } from ${JSON.stringify(DIST_INDEX)};
      try {
        await DataDirLock.acquire(${JSON.stringify(dir)});
        console.log('won');
        setInterval(() => {}, 1 << 30);
      } catch (error) {
        console.log('lost: ' + error.message);
        process.exit(0);
      }
    `,
    ),
  );
  await waitFor('every racer decided', () => racers.every((r) => /won|lost/.test(r.output())));
  const winners = racers.filter((r) => r.output().includes('won'));
  t.equal(winners.length, 1, `one winner: ${racers.map((r) => r.output().trim()).join(' | ')}`);
  t.equal(readLock(dir).pid, winners[0]?.pid, 'and the LOCK names it');
});

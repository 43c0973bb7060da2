// What the bench reads of a server from /proc: a process that died during a window makes that
// window's CPU unknown (null), never a difference that silently leaves its time out.
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpuUsBetween, totalCpuUs } from '../../bench/proc-stats.mjs';

t.test('CPU of live processes adds up; a gone process makes the total unknown', async (t) => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  await once(child, 'spawn');
  const pids = [process.pid, child.pid!];
  const before = totalCpuUs(pids);
  t.ok(typeof before === 'number' && before > 0, 'both alive: a number');
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
  const after = totalCpuUs(pids);
  t.equal(after, null, 'one gone: unknown, not its share counted as 0');
  t.equal(cpuUsBetween(before, after), null, 'so the window has no CPU figure');
  t.equal(cpuUsBetween(1_000, 4_000), 3_000);
});

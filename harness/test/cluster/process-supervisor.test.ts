import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childRegistry } from '../../src/cluster/child-registry.js';
import { readProcStat } from '../../src/cluster/proc-stat.js';
import { ProcessSupervisor } from '../../src/cluster/process-supervisor.js';
import type { ProcessSpec } from '../../src/cluster/process-supervisor.js';
import { waitFor } from '../support/net.js';

const childScript = fileURLToPath(new URL('../fixtures/child.mjs', import.meta.url));
const hostScript = fileURLToPath(new URL('../fixtures/host.mjs', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'kvapp-supervisor-'));
const supervisor = new ProcessSupervisor({ stopDeadlineMs: 2000 });
t.teardown(async () => {
  await supervisor.killAll();
  rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
function spec(args: string[] = []): ProcessSpec {
  counter += 1;
  return {
    name: `p${counter}`,
    file: process.execPath,
    args: [childScript, ...args],
    env: { NODE_OPTIONS: '' },
    logFile: join(dir, `p${counter}`, 'node.log'),
  };
}

const log = (s: ProcessSpec): string => readFileSync(s.logFile, 'utf8');
const ready = (s: ProcessSpec, generation = 1): Promise<void> =>
  waitFor(`${s.name} ready`, () => log(s).split('\nready ').length - 1 >= generation);
/** Dead = no such pid, or a zombie nobody reaped yet. */
const dead = (pid: number): boolean => {
  const st = readProcStat(pid);
  return st === null || st.state === 'Z';
};

t.test('start: pid, state, generation, stdout and stderr appended to the log', async (t) => {
  const s = spec();
  const p = await supervisor.start(s);
  t.equal(p.state, 'running');
  t.equal(p.generation, 1);
  t.type(p.pid, 'number');
  await ready(s);
  await waitFor('stderr line', () => log(s).includes('stderr line from'));
  t.match(log(s), new RegExp(`ready ${p.pid}\\n`));
  t.match(log(s), /"harness":"start"/);
  t.ok(childRegistry.size >= 1, 'registered');
  await p.kill();
});

t.test('pause and resume are observed in /proc', async (t) => {
  const s = spec();
  const p = await supervisor.start(s);
  await ready(s);
  await p.pause();
  t.equal(p.state, 'paused');
  t.equal(readProcStat(p.pid!)?.state, 'T');
  await p.resume();
  t.equal(p.state, 'running');
  t.not(readProcStat(p.pid!)?.state, 'T');
  await t.rejects(p.resume(), 'resume while running is a programmer error');
  await p.kill();
});

t.test('kill -9 is tracked as an exit by SIGKILL', async (t) => {
  const s = spec();
  const p = await supervisor.start(s);
  const pid = p.pid!;
  const exit = await p.kill();
  t.equal(exit.signal, 'SIGKILL');
  t.equal(exit.code, null);
  t.equal(exit.generation, 1);
  t.equal(p.state, 'exited');
  t.ok(dead(pid));
  t.same(await p.kill(), exit, 'killing an exited process is a no-op');
  t.match(log(s), /"harness":"exit".*"signal":"SIGKILL"/);
});

t.test('stop: SIGTERM, clean exit', async (t) => {
  const s = spec();
  const p = await supervisor.start(s);
  await ready(s);
  const exit = await p.stop();
  t.equal(exit.code, 0);
  t.equal(exit.forced, false);
  t.match(log(s), /got SIGTERM/);
});

t.test('stop: SIGKILL after the deadline when SIGTERM is ignored', async (t) => {
  const s = spec(['--ignore-term']);
  const p = await supervisor.start(s);
  await ready(s);
  const exit = await p.stop(300);
  t.equal(exit.forced, true);
  t.equal(exit.signal, 'SIGKILL');
  t.match(log(s), /ignoring SIGTERM/);
});

t.test('stop of a paused process continues it so it can exit cleanly', async (t) => {
  const s = spec();
  const p = await supervisor.start(s);
  await ready(s);
  await p.pause();
  const exit = await p.stop(3000);
  t.equal(exit.forced, false);
  t.equal(exit.code, 0);
});

t.test('restart: a new generation and pid, same log appended', async (t) => {
  const s = spec();
  const p = await supervisor.start(s);
  await ready(s);
  const firstPid = p.pid;
  await p.restart('kill');
  t.equal(p.generation, 2);
  t.not(p.pid, firstPid);
  t.equal(p.state, 'running');
  await ready(s, 2);
  t.equal(log(s).match(/"harness":"start"/g)?.length, 2);
  await p.restart('stop');
  t.equal(p.generation, 3);
  await ready(s, 3);
  await supervisor.stopAll();
  t.equal(p.state, 'exited');
});

t.test('a natural exit is tracked with its code', async (t) => {
  const s = spec(['--exit-code=3']);
  const p = await supervisor.start(s);
  const exit = await p.waitForExit(5000);
  t.equal(exit.code, 3);
  t.equal(p.state, 'exited');
  t.equal(p.alive, false);
});

t.test('spawn failure is a typed error', async (t) => {
  const p = supervisor.add({ ...spec(), file: join(dir, 'does-not-exist') });
  await t.rejects(p.start(), { name: 'SupervisorError', code: 'SPAWN_FAILED' });
  t.equal(p.state, 'exited');
});

t.test('waitForExit times out with a typed error', async (t) => {
  const s = spec();
  const p = await supervisor.start(s);
  await t.rejects(p.waitForExit(50), { name: 'SupervisorError', code: 'EXIT_TIMEOUT' });
  await p.kill();
});

/**
 * The harness-dies cases run a stand-in harness (fixtures/host.mjs) as its own process, with the
 * TypeScript loader this test runs under, and check that its child does not survive it.
 */
async function runHost(
  t: { teardown(fn: () => void): void },
  flags: string[],
): Promise<{ host: ReturnType<typeof spawn>; childPid: number; exited: Promise<NodeJS.Signals | number | null> }> {
  const host = spawn(process.execPath, [hostScript, join(dir, `host-${++counter}.log`), ...flags], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    host.on('exit', (code, signal) => resolve(signal ?? code)),
  );
  let childPid = 0;
  t.teardown(() => {
    host.kill('SIGKILL');
    if (childPid > 0 && !dead(childPid)) process.kill(childPid, 'SIGKILL');
  });
  let out = '';
  host.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  await waitFor('host to report its child', () => /child (\d+)\n/.test(out), 10_000);
  childPid = Number(/child (\d+)\n/.exec(out)![1]);
  return { host, childPid, exited };
}

t.test('harness killed with SIGKILL: the guardian kills the child', async (t) => {
  const { host, childPid, exited } = await runHost(t, ['--child=--no-parent-watch']);
  t.notOk(dead(childPid), 'child runs');
  host.kill('SIGKILL');
  t.equal(await exited, 'SIGKILL');
  await waitFor('child gone', () => dead(childPid), 5000);
  t.pass('child did not outlive the harness');
});

t.test('harness killed with SIGKILL, no guardian: a child watching KVAPP_PARENT_PID exits', async (t) => {
  const { host, childPid, exited } = await runHost(t, ['--no-guardian']);
  host.kill('SIGKILL');
  t.equal(await exited, 'SIGKILL');
  await waitFor('child gone', () => dead(childPid), 5000);
  t.pass('child did not outlive the harness');
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`harness gets ${signal}: the child is killed and the harness still dies of it`, async (t) => {
    const { host, childPid, exited } = await runHost(t, ['--no-guardian', '--child=--no-parent-watch']);
    host.kill(signal);
    t.equal(await exited, signal);
    await waitFor('child gone', () => dead(childPid), 5000);
    t.pass('child did not outlive the harness');
  });
}

for (const how of ['--exit', '--throw']) {
  t.test(`harness ends by ${how}: the exit hook kills the child`, async (t) => {
    const { childPid, exited } = await runHost(t, ['--no-guardian', '--child=--no-parent-watch', how]);
    t.not(await exited, null);
    await waitFor('child gone', () => dead(childPid), 5000);
    t.pass('child did not outlive the harness');
  });
}

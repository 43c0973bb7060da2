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

/**
 * A node start-up takes ~100 ms on an idle machine but several seconds when other test suites load
 * the two cores; the waits below return as soon as their condition holds.
 */
const startMsMax = 45_000;

const dir = mkdtempSync(join(tmpdir(), 'kvapp-supervisor-'));
const supervisor = new ProcessSupervisor({ stopDeadlineMs: 20_000, stateTimeoutMs: 20_000 });
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
  waitFor(`${s.name} ready`, () => log(s).split('\nready ').length - 1 >= generation, startMsMax);
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
  await waitFor('stderr line', () => log(s).includes('stderr line from'), startMsMax);
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
  const exit = await p.stop(20_000);
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
  const exit = await p.waitForExit(startMsMax);
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
 * The harness-dies cases run a stand-in harness (fixtures/host.mjs, on the built dist/) as its own
 * process and check that its child does not survive it. They run side by side: each costs a few
 * node start-ups, which are slow on a loaded machine.
 */
interface Host {
  readonly host: ReturnType<typeof spawn>;
  readonly childPid: number;
  readonly exited: Promise<NodeJS.Signals | number | null>;
  stderr(): string;
}

async function runHost(t: { teardown(fn: () => void): void }, flags: string[]): Promise<Host> {
  const host = spawn(process.execPath, [hostScript, join(dir, `host-${++counter}.log`), ...flags], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => host.on('exit', (code, signal) => resolve(signal ?? code)));
  let childPid = 0;
  t.teardown(() => {
    // SIGTERM, not SIGKILL: a host that failed before reporting its child (so childPid is unknown)
    // still has its registry kill that child on the way out.
    host.kill('SIGTERM');
    if (childPid > 0 && !dead(childPid)) process.kill(childPid, 'SIGKILL');
  });
  let out = '';
  let err = '';
  host.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  host.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  await waitFor(`host ${flags.join(' ')} to report its child (stderr: ${err})`, () => /child (\d+)\n/.test(out), startMsMax);
  childPid = Number(/child (\d+)\n/.exec(out)![1]);
  return { host, childPid, exited, stderr: () => err };
}

interface Scenario {
  readonly name: string;
  readonly flags: string[];
  /** What ends the harness; nothing when it ends by itself. */
  readonly act?: (h: Host) => void;
  readonly expectExit: (how: NodeJS.Signals | number | null) => boolean;
}

const scenarios: Scenario[] = [
  {
    name: 'SIGKILL: the guardian kills the child',
    flags: ['--child=--no-parent-watch'],
    act: (h) => h.host.kill('SIGKILL'),
    expectExit: (how) => how === 'SIGKILL',
  },
  {
    name: 'SIGKILL, no guardian: a child watching KVAPP_PARENT_PID exits',
    flags: ['--no-guardian'],
    act: (h) => h.host.kill('SIGKILL'),
    expectExit: (how) => how === 'SIGKILL',
  },
  ...(['SIGTERM', 'SIGINT'] as const).map((signal) => ({
    name: `${signal}: the child is killed and the harness still dies of the signal`,
    flags: ['--no-guardian', '--child=--no-parent-watch'],
    act: (h: Host) => h.host.kill(signal),
    expectExit: (how: NodeJS.Signals | number | null) => how === signal,
  })),
  {
    name: 'process.exit(): the exit hook kills the child',
    flags: ['--no-guardian', '--child=--no-parent-watch', '--exit'],
    expectExit: (how) => how === 0,
  },
  {
    name: 'uncaught exception: the exit hook kills the child',
    flags: ['--no-guardian', '--child=--no-parent-watch', '--throw'],
    expectExit: (how) => how === 1,
  },
];

t.test('no child outlives the harness, however the harness ends', async (t) => {
  await Promise.all(
    scenarios.map(async (sc) => {
      const h = await runHost(t, sc.flags);
      if (sc.act !== undefined) {
        t.notOk(dead(h.childPid), `${sc.name}: child runs before`);
        sc.act(h);
      }
      const how = await h.exited;
      t.ok(sc.expectExit(how), `${sc.name}: harness ended by ${String(how)}`);
      if (sc.flags.includes('--throw')) t.match(h.stderr(), /host fixture throws on purpose/);
      await waitFor(`${sc.name}: child gone`, () => dead(h.childPid), startMsMax);
      t.pass(`${sc.name}: child gone`);
    }),
  );
});

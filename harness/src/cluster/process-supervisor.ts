import assert from 'node:assert/strict';
import { appendFileSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { childRegistry } from './child-registry.js';
import { readProcStat } from './proc-stat.js';

export interface ProcessSpec {
  /** Unique within a supervisor, e.g. "n1". */
  readonly name: string;
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  /** Added to the harness's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** stdout and stderr of every generation are appended here. */
  readonly logFile: string;
}

export type ProcessState = 'idle' | 'running' | 'paused' | 'exited';

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Date.now() when the harness saw the exit. */
  readonly at: number;
  readonly generation: number;
}

export type SupervisorErrorCode = 'SPAWN_FAILED' | 'STATE_TIMEOUT' | 'EXIT_TIMEOUT';

/** Operating errors of the supervisor; `code` is stable. */
export class SupervisorError extends Error {
  constructor(
    readonly code: SupervisorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SupervisorError';
  }
}

export interface SupervisorOptions {
  /** How long stop() waits after SIGTERM before SIGKILL. */
  readonly stopDeadlineMs?: number;
  /** How long pause/resume/kill wait for the OS to show the new state. */
  readonly stateTimeoutMs?: number;
  readonly pollIntervalMs?: number;
}

const stopDeadlineMsDefault = 5000;
const stateTimeoutMsDefault = 5000;
const pollIntervalMsDefault = 5;

function spawnLogged(spec: ProcessSpec, fd: number) {
  return execa(spec.file, [...spec.args], {
    ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
    env: { ...spec.env, KVAPP_PARENT_PID: String(process.pid) },
    extendEnv: true,
    stdin: 'ignore',
    // execa's types list only fds 3..9, but it hands any integer fd to spawn() as is.
    stdout: fd as 3,
    stderr: fd as 3,
    buffer: false,
    reject: false,
    cleanup: true,
    detached: false,
  });
}

type Subprocess = ReturnType<typeof spawnLogged>;

/** One supervised program; survives restarts (each start is a new generation and pid). */
export class ManagedProcess {
  private subprocess: Subprocess | null = null;
  private currentPid: number | undefined;
  private currentState: ProcessState = 'idle';
  private gen = 0;
  private spawnedAt: number | undefined;
  private exit: ExitInfo | null = null;
  private exitWaiters: Array<(info: ExitInfo) => void> = [];

  constructor(
    readonly spec: ProcessSpec,
    private readonly options: Required<SupervisorOptions>,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.currentPid;
  }

  get state(): ProcessState {
    return this.currentState;
  }

  /** Starts counted from 1; 0 before the first start. */
  get generation(): number {
    return this.gen;
  }

  /**
   * performance.now() when the current generation was spawned (its exec), undefined before the first
   * start: a libfaketime clock counts its rate from the process's start (nemesis/fake-clock.ts).
   */
  get startedAt(): number | undefined {
    return this.spawnedAt;
  }

  get lastExit(): ExitInfo | null {
    return this.exit;
  }

  get alive(): boolean {
    return this.currentState === 'running' || this.currentState === 'paused';
  }

  /** Spawns the program; resolves once it has a pid. Throws SupervisorError SPAWN_FAILED. */
  async start(): Promise<void> {
    assert.ok(!this.alive, `${this.name} is already ${this.currentState}`);
    this.gen += 1;
    const generation = this.gen;
    mkdirSync(dirname(this.spec.logFile), { recursive: true });
    this.logLine({ harness: 'start', name: this.name, generation, file: this.spec.file, args: this.spec.args });
    // One O_APPEND descriptor handed to the child: it writes its log directly, so the log keeps
    // working if the harness dies, and nothing of it flows through the harness's memory.
    const fd = openSync(this.spec.logFile, 'a');
    let subprocess: Subprocess;
    try {
      subprocess = spawnLogged(this.spec, fd);
      // spawn() returns once the child has exec'd: within a few ms of the program's own start.
      this.spawnedAt = performance.now();
    } finally {
      closeSync(fd);
    }
    subprocess.catch(() => {}); // reject: false; keep stray rejections from surfacing anyway
    const spawned = await new Promise<Error | null>((resolve) => {
      subprocess.once('spawn', () => resolve(null));
      subprocess.once('error', (err) => resolve(err));
    });
    if (spawned !== null || subprocess.pid === undefined) {
      this.currentState = 'exited';
      this.exit = { code: null, signal: null, at: Date.now(), generation };
      this.logLine({ harness: 'spawn-failed', name: this.name, generation, error: String(spawned) });
      throw new SupervisorError('SPAWN_FAILED', `${this.name}: cannot start ${this.spec.file}: ${String(spawned)}`);
    }
    const pid = subprocess.pid;
    this.subprocess = subprocess;
    this.currentPid = pid;
    this.currentState = 'running';
    this.exit = null;
    childRegistry.register(pid);
    subprocess.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      childRegistry.unregister(pid);
      const info: ExitInfo = { code, signal, at: Date.now(), generation };
      this.exit = info;
      this.currentState = 'exited';
      this.subprocess = null;
      this.logLine({ harness: 'exit', name: this.name, generation, pid, code, signal });
      const waiters = this.exitWaiters;
      this.exitWaiters = [];
      for (const w of waiters) w(info);
    });
  }

  /** Resolves with the exit of the current generation (immediately if it already exited). */
  waitForExit(timeoutMs: number): Promise<ExitInfo> {
    if (this.exit !== null && !this.alive) return Promise.resolve(this.exit);
    assert.ok(this.alive, `${this.name} was never started`);
    return new Promise<ExitInfo>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.exitWaiters = this.exitWaiters.filter((w) => w !== waiter);
        reject(new SupervisorError('EXIT_TIMEOUT', `${this.name} did not exit within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (info: ExitInfo): void => {
        clearTimeout(timer);
        resolve(info);
      };
      this.exitWaiters.push(waiter);
    });
  }

  /** kill -9. Resolves once the exit is seen. Calling it on an exited process is a no-op. */
  async kill(): Promise<ExitInfo> {
    if (!this.alive) return this.requireExit();
    this.signal('SIGKILL');
    return this.waitForExit(this.options.stateTimeoutMs);
  }

  /** SIGSTOP, then wait until the kernel reports the process stopped ('T'). */
  async pause(): Promise<void> {
    assert.ok(this.currentState === 'running', `${this.name} cannot pause while ${this.currentState}`);
    this.signal('SIGSTOP');
    await this.pollState('stopped', (s) => s === 'T');
    this.currentState = 'paused';
  }

  /** SIGCONT, then wait until the kernel no longer reports it stopped. */
  async resume(): Promise<void> {
    assert.ok(this.currentState === 'paused', `${this.name} cannot resume while ${this.currentState}`);
    this.signal('SIGCONT');
    await this.pollState('continued', (s) => s !== 'T');
    if (this.currentState === 'paused') this.currentState = 'running';
  }

  /**
   * Clean stop: SIGTERM (and SIGCONT, since a stopped process cannot act on SIGTERM), wait up to
   * `deadlineMs` for it to exit, then SIGKILL.
   */
  async stop(deadlineMs = this.options.stopDeadlineMs): Promise<ExitInfo & { readonly forced: boolean }> {
    if (!this.alive) return { ...this.requireExit(), forced: false };
    this.signal('SIGTERM');
    if (this.currentState === 'paused') this.signal('SIGCONT');
    try {
      return { ...(await this.waitForExit(deadlineMs)), forced: false };
    } catch (err) {
      if (!(err instanceof SupervisorError) || err.code !== 'EXIT_TIMEOUT') throw err;
    }
    this.signal('SIGKILL');
    return { ...(await this.waitForExit(this.options.stateTimeoutMs)), forced: true };
  }

  /** Ends the current generation (`kill` = SIGKILL, `stop` = clean stop) if alive, then starts anew. */
  async restart(how: 'kill' | 'stop' = 'stop'): Promise<void> {
    if (this.alive) {
      if (how === 'kill') await this.kill();
      else await this.stop();
    }
    await this.start();
  }

  private requireExit(): ExitInfo {
    assert.ok(this.exit !== null, `${this.name} was never started`);
    return this.exit;
  }

  private signal(signal: NodeJS.Signals): void {
    assert.ok(this.subprocess !== null && this.currentPid !== undefined);
    try {
      process.kill(this.currentPid, signal);
    } catch (err) {
      // ESRCH: it died and we have not yet seen the exit event; the waits below cover that.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  private async pollState(what: string, done: (state: string) => boolean): Promise<void> {
    const pid = this.currentPid;
    assert.ok(pid !== undefined);
    const deadline = Date.now() + this.options.stateTimeoutMs;
    for (;;) {
      if (!this.alive) return; // it exited meanwhile; the exit event says how
      const stat = readProcStat(pid);
      if (stat === null || stat.state === 'Z') return;
      if (done(stat.state)) return;
      if (Date.now() > deadline) {
        throw new SupervisorError(
          'STATE_TIMEOUT',
          `${this.name} (pid ${pid}) not ${what} after ${this.options.stateTimeoutMs} ms (state ${stat.state})`,
        );
      }
      await sleep(this.options.pollIntervalMs);
    }
  }

  private logLine(record: Record<string, unknown>): void {
    appendFileSync(this.spec.logFile, `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
  }
}

/** A set of named processes. Every child is also in the harness-wide registry (child-registry.ts). */
export class ProcessSupervisor {
  private readonly processes = new Map<string, ManagedProcess>();
  private readonly options: Required<SupervisorOptions>;

  constructor(options: SupervisorOptions = {}) {
    this.options = {
      stopDeadlineMs: options.stopDeadlineMs ?? stopDeadlineMsDefault,
      stateTimeoutMs: options.stateTimeoutMs ?? stateTimeoutMsDefault,
      pollIntervalMs: options.pollIntervalMs ?? pollIntervalMsDefault,
    };
  }

  add(spec: ProcessSpec): ManagedProcess {
    assert.ok(!this.processes.has(spec.name), `process ${spec.name} already exists`);
    const p = new ManagedProcess(spec, this.options);
    this.processes.set(spec.name, p);
    return p;
  }

  /** add + start. */
  async start(spec: ProcessSpec): Promise<ManagedProcess> {
    const p = this.add(spec);
    await p.start();
    return p;
  }

  get(name: string): ManagedProcess {
    const p = this.processes.get(name);
    assert.ok(p !== undefined, `no process named ${name}`);
    return p;
  }

  all(): ManagedProcess[] {
    return [...this.processes.values()];
  }

  async killAll(): Promise<void> {
    await Promise.all(
      this.all()
        .filter((p) => p.alive)
        .map((p) => p.kill()),
    );
  }

  async stopAll(deadlineMs?: number): Promise<void> {
    await Promise.all(
      this.all()
        .filter((p) => p.alive)
        .map((p) => (deadlineMs === undefined ? p.stop() : p.stop(deadlineMs))),
    );
  }
}

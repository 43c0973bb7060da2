import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { guardianSource } from './guardian.js';
import { readProcStat } from './proc-stat.js';

/**
 * Every child process the harness started and that may still be alive, across all supervisors of
 * this harness process, so that nothing is left behind however the harness ends:
 *
 * - normal exit, `process.exit()`, an uncaught exception: the `exit` hook SIGKILLs them
 *   (synchronously; SIGKILL also ends a SIGSTOPped child).
 * - SIGINT, SIGTERM, SIGHUP to the harness: the handler SIGKILLs them, then lets the signal do what
 *   it would have done (re-raised when nobody else listens for it).
 * - SIGKILL of the harness (or a crash of node itself): the guardian process (see guardian.ts)
 *   notices its stdin pipe close and SIGKILLs them. Cooperative children can also watch
 *   KVAPP_PARENT_PID themselves (the supervisor sets it).
 *
 * Not covered: a child started a few microseconds before the harness is SIGKILLed, before the
 * guardian heard of it (KVAPP_PARENT_PID covers it if the child honours it); the guardian itself
 * being SIGKILLed together with the harness (e.g. `kill -9 -1`); grandchildren (only the direct
 * child is killed; kvapp-node does not fork); non-Linux systems (no /proc: pause detection and
 * pid-reuse protection need it).
 */
class ChildRegistry {
  private readonly children = new Map<number, string>();
  private guardian: ChildProcess | null = null;
  private guardianWanted = true;
  private handlersInstalled = false;
  private readonly signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  private readonly signalHandlers = new Map<NodeJS.Signals, () => void>();
  private readonly onExit = (): void => this.killAllSync();

  /** Use no guardian for children registered from now on (tests of the KVAPP_PARENT_PID path). */
  setGuardianEnabled(enabled: boolean): void {
    this.guardianWanted = enabled;
  }

  register(pid: number): void {
    const startTime = readProcStat(pid)?.startTime ?? '';
    this.children.set(pid, startTime);
    this.installHandlers();
    if (this.guardianWanted) this.tellGuardian(`add ${pid} ${startTime}\n`);
  }

  unregister(pid: number): void {
    if (!this.children.delete(pid)) return;
    this.tellGuardian(`del ${pid}\n`);
    if (this.children.size === 0) this.uninstallHandlers();
  }

  get size(): number {
    return this.children.size;
  }

  killAllSync(): void {
    for (const [pid, startTime] of this.children) {
      const stat = readProcStat(pid);
      // Skip a pid that now belongs to another process; '' means we could not read it at start.
      if (stat !== null && startTime !== '' && stat.startTime !== startTime) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  private tellGuardian(line: string): void {
    if (this.guardian === null || this.guardian.exitCode !== null || this.guardian.stdin?.destroyed) {
      if (!line.startsWith('add')) return;
      this.guardian = this.startGuardian();
      for (const [pid, st] of this.children) this.guardian.stdin?.write(`add ${pid} ${st}\n`);
      return;
    }
    this.guardian.stdin?.write(line);
  }

  private startGuardian(): ChildProcess {
    const env: NodeJS.ProcessEnv = { ...process.env, KVAPP_GUARDIAN_PARENT: String(process.pid) };
    delete env['NODE_OPTIONS']; // test runners put loaders there; the guardian needs none
    const g = spawn(process.execPath, ['-e', guardianSource], {
      detached: true, // its own process group: a Ctrl-C to ours does not reach it
      stdio: ['pipe', 'ignore', 'ignore'],
      env,
    });
    g.on('error', () => {});
    g.stdin?.on('error', () => {});
    // Neither the guardian nor its pipe may keep the harness alive.
    g.unref();
    (g.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return g;
  }

  private installHandlers(): void {
    if (this.handlersInstalled) return;
    this.handlersInstalled = true;
    process.on('exit', this.onExit);
    for (const signal of this.signals) {
      const handler = (): void => {
        this.killAllSync();
        this.uninstallHandlers();
        // Others (e.g. signal-exit, used by execa) decide for themselves; alone, restore the default.
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      };
      this.signalHandlers.set(signal, handler);
      // First in line, so listeners after us see the signal as if we had never been there.
      process.prependListener(signal, handler);
    }
  }

  private uninstallHandlers(): void {
    if (!this.handlersInstalled) return;
    this.handlersInstalled = false;
    process.off('exit', this.onExit);
    for (const [signal, handler] of this.signalHandlers) process.off(signal, handler);
    this.signalHandlers.clear();
  }
}

/** The one registry of this harness process. */
export const childRegistry = new ChildRegistry();

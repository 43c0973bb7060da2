/**
 * Failpoints: named places in the node where the harness can make it crash or stall at an exact
 * moment. Armed only through the environment (KVAPP_FAILPOINTS); otherwise every hit is a no-op.
 *
 * Syntax: `name=action[@P%][,name=action...]` where action is `crash` (SIGKILL to ourselves: a
 * real crash, nothing flushed), `stall:MS` (block this path for MS milliseconds) or `exit:CODE`.
 * `@P%` fires with probability P on each hit (default 100%).
 * Example: `KVAPP_FAILPOINTS=wal-before-fsync=crash@30%,before-apply=stall:500`.
 */
export const FAILPOINT_NAMES = ['wal-before-fsync', 'wal-after-fsync', 'wal-mid-record', 'before-apply'] as const;
export type FailpointName = (typeof FAILPOINT_NAMES)[number];

type Action =
  { readonly kind: 'crash' } | { readonly kind: 'stall'; readonly ms: number } | { readonly kind: 'exit'; readonly code: number };

interface Armed {
  readonly action: Action;
  readonly probability: number;
}

export class FailpointError extends Error {
  readonly code = 'FAILPOINT_SPEC_INVALID' as const;
  override readonly name = 'FailpointError';
}

export interface FailpointEffects {
  crash(): void;
  exit(code: number): void;
  sleep(ms: number): Promise<void>;
  /** Blocks the whole thread for `ms` (a failpoint on a synchronous path: the node freezes). */
  block(ms: number): void;
  random(): number;
}

const defaultEffects: FailpointEffects = {
  crash: () => process.kill(process.pid, 'SIGKILL'),
  exit: (code) => process.exit(code),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  block: (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms),
  random: () => Math.random(),
};

export class Failpoints {
  private readonly armed = new Map<FailpointName, Armed>();
  readonly hits = new Map<FailpointName, number>();

  constructor(
    spec: string | undefined,
    private readonly effects: FailpointEffects = defaultEffects,
  ) {
    if (spec === undefined || spec.trim() === '') return;
    for (const part of spec.split(',')) {
      const match = /^\s*([a-z-]+)=(crash|stall:(\d+)|exit:(\d+))(?:@(\d+(?:\.\d+)?)%)?\s*$/.exec(part);
      if (!match) throw new FailpointError(`failpoint "${part}": expected name=crash|stall:MS|exit:CODE[@P%]`);
      const name = match[1] as FailpointName;
      if (!FAILPOINT_NAMES.includes(name)) throw new FailpointError(`unknown failpoint "${name}"; known: ${FAILPOINT_NAMES.join(', ')}`);
      const probability = match[5] === undefined ? 1 : Number(match[5]) / 100;
      if (probability <= 0 || probability > 1) throw new FailpointError(`failpoint "${name}": probability must be in (0, 100]%`);
      const action: Action =
        match[2] === 'crash'
          ? { kind: 'crash' }
          : match[3] !== undefined
            ? { kind: 'stall', ms: Number(match[3]) }
            : { kind: 'exit', code: Number(match[4]) };
      this.armed.set(name, { action, probability });
    }
  }

  get active(): boolean {
    return this.armed.size > 0;
  }

  /** Whether `name` is armed: callers install a hook only then, so an unarmed one costs nothing. */
  isArmed(name: FailpointName): boolean {
    return this.armed.has(name);
  }

  describe(): string[] {
    return [...this.armed].map(
      ([name, a]) => `${name}=${a.action.kind}${a.action.kind === 'stall' ? `:${a.action.ms}` : ''}@${a.probability * 100}%`,
    );
  }

  /** Passes the failpoint: a no-op unless armed (and the dice say so). */
  async hit(name: FailpointName): Promise<void> {
    const armed = this.fires(name);
    if (!armed) return;
    switch (armed.action.kind) {
      case 'crash':
        this.effects.crash();
        // SIGKILL ends us before the next line; if the effect is faked, stop here for good.
        await new Promise(() => {});
        return;
      case 'exit':
        this.effects.exit(armed.action.code);
        await new Promise(() => {});
        return;
      case 'stall':
        await this.effects.sleep(armed.action.ms);
        return;
    }
  }

  /**
   * The failpoint on a synchronous path (the node kernel's apply): a crash or exit as in hit();
   * a stall blocks the whole thread, as a stuck disk or a long pause would.
   */
  hitSync(name: FailpointName): void {
    const armed = this.fires(name);
    if (!armed) return;
    switch (armed.action.kind) {
      case 'crash':
        this.effects.crash();
        return;
      case 'exit':
        this.effects.exit(armed.action.code);
        return;
      case 'stall':
        this.effects.block(armed.action.ms);
        return;
    }
  }

  /** Counts a hit of `name`; the armed action when it fires this time. */
  private fires(name: FailpointName): Armed | null {
    const armed = this.armed.get(name);
    if (!armed) return null;
    this.hits.set(name, (this.hits.get(name) ?? 0) + 1);
    if (armed.probability < 1 && this.effects.random() >= armed.probability) return null;
    return armed;
  }
}

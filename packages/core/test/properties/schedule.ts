import fc from 'fast-check';
import { RaftError, type NodeId, type RaftConfig } from '../../src/index.js';
import { TestCluster, bytes } from '../support/cluster.js';
import { formatMessage, formatStatus } from '../support/format.js';
import { INVARIANTS, SafetyChecker } from '../support/safety.js';

/**
 * Random fault schedules for in-memory clusters. A schedule is a list of actions; message
 * positions and node numbers are taken modulo what exists at that step, so every generated
 * schedule is valid and fast-check can shrink it freely.
 */
export type Action =
  | { readonly kind: 'deliver' | 'drop' | 'duplicate' | 'reorder'; readonly at: number }
  | { readonly kind: 'flush'; readonly count: number }
  | { readonly kind: 'tick'; readonly node: number; readonly times: number }
  /** asyncWrites only: the node's oldest `count` pending writes complete. */
  | { readonly kind: 'persist'; readonly node: number; readonly count: number }
  | { readonly kind: 'tick-all'; readonly times: number }
  | { readonly kind: 'propose' | 'crash' | 'restart' | 'compact'; readonly node: number }
  | { readonly kind: 'partition'; readonly mask: number }
  | { readonly kind: 'heal' };

const at = fc.nat(1_000);
const node = fc.nat(15);

export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 20, arbitrary: fc.record({ kind: fc.constant('deliver' as const), at }, { noNullPrototype: true }) },
  {
    weight: 8,
    arbitrary: fc.record({ kind: fc.constant('flush' as const), count: fc.integer({ min: 1, max: 30 }) }, { noNullPrototype: true }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('drop' as const), at }, { noNullPrototype: true }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at }, { noNullPrototype: true }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reorder' as const), at }, { noNullPrototype: true }) },
  {
    weight: 10,
    arbitrary: fc.record({ kind: fc.constant('tick' as const), node, times: fc.integer({ min: 1, max: 4 }) }, { noNullPrototype: true }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('tick-all' as const), times: fc.integer({ min: 1, max: 3 }) }, { noNullPrototype: true }),
  },
  {
    weight: 8,
    arbitrary: fc.record({ kind: fc.constant('persist' as const), node, count: fc.integer({ min: 1, max: 3 }) }, { noNullPrototype: true }),
  },
  { weight: 7, arbitrary: fc.record({ kind: fc.constant('propose' as const), node }, { noNullPrototype: true }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('partition' as const), mask: fc.nat(31) }, { noNullPrototype: true }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('heal' as const) }, { noNullPrototype: true }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('crash' as const), node }, { noNullPrototype: true }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('restart' as const), node }, { noNullPrototype: true }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), node }, { noNullPrototype: true }) },
);

export interface ScheduleOptions {
  readonly size: number;
  readonly seed: number;
  readonly config?: Partial<Omit<RaftConfig, 'id' | 'storage' | 'rng'>>;
  /** Writes complete only when a 'persist' action (or settling) says so; see TestCluster. */
  readonly asyncWrites?: boolean;
}

export function newCluster(options: ScheduleOptions): TestCluster {
  return new TestCluster({
    size: options.size,
    seed: options.seed,
    electionTicks: 6,
    heartbeatTicks: 2,
    asyncWrites: options.asyncWrites === true,
    config: { messageBytesMax: 100, inflightAppendsMax: 4, ...options.config },
  });
}

let proposals = 0;

/** Performs one action; returns false when it could not apply (nothing to deliver, node up already...). */
export function perform(c: TestCluster, action: Action): void {
  const ids = c.ids();
  const pick = (n: number): NodeId => ids[n % ids.length]!;
  switch (action.kind) {
    case 'deliver':
    case 'drop':
    case 'duplicate':
    case 'reorder': {
      if (c.inFlight.length === 0) return;
      const position = action.at % c.inFlight.length;
      if (action.kind === 'deliver') c.deliverAt(position);
      else if (action.kind === 'drop') c.dropAt(position);
      else if (action.kind === 'duplicate') c.duplicateAt(position);
      else c.moveToEnd(position);
      return;
    }
    case 'flush':
      // A calm stretch: the oldest messages arrive in order.
      for (let i = 0; i < action.count && c.inFlight.length > 0; i++) c.deliverAt(0);
      return;
    case 'tick':
      c.tick(pick(action.node), action.times);
      return;
    case 'tick-all':
      c.tickAll(action.times);
      return;
    case 'persist':
      c.completeWrites(pick(action.node), action.count);
      return;
    case 'propose': {
      // Ask the chosen node, or else whoever thinks it leads: most proposals should land.
      const chosen = pick(action.node);
      const target = !c.down.has(chosen) && c.node(chosen).status().role === 'leader' ? chosen : c.leader();
      if (target === undefined) return;
      try {
        c.node(target).propose(bytes(`p${++proposals}`));
      } catch (error) {
        if (!(error instanceof RaftError)) throw error;
      }
      c.processReady(target);
      return;
    }
    case 'partition': {
      c.heal();
      const left = ids.filter((_, i) => (action.mask >> i) & 1);
      const right = ids.filter((_, i) => !((action.mask >> i) & 1));
      if (left.length > 0 && right.length > 0) c.partition(left, right);
      return;
    }
    case 'heal':
      c.heal();
      return;
    case 'crash': {
      const id = pick(action.node);
      // Keep a majority alive so that schedules keep doing something interesting.
      // With asyncWrites, some of its pending writes may have reached the disk (the rest of the node number decides how many).
      if (!c.down.has(id) && (c.down.size + 1) * 2 < ids.length)
        c.crash(id, Math.floor(action.node / ids.length) % (c.pendingWrites(id) + 1));
      return;
    }
    case 'restart': {
      const id = pick(action.node);
      if (c.down.has(id)) c.restart(id);
      return;
    }
    case 'compact': {
      const id = pick(action.node);
      if (c.down.has(id) || c.pendingWrites(id) > 0) return;
      const applied = c.node(id).status().applied;
      if (applied > c.storages.get(id)!.snapshot().meta.index) c.compact(id, applied);
      return;
    }
  }
}

function describe(action: Action): string {
  return JSON.stringify(action);
}

/** What the cluster looked like, for failure messages. */
export function clusterDump(c: TestCluster): string {
  const lines = c.ids().map((id) => (c.down.has(id) ? `${id}: down` : formatStatus(c.node(id))));
  lines.push(`${c.inFlight.length} in flight${c.inFlight.length > 0 ? `, first: ${formatMessage(c.inFlight[0]!)}` : ''}`);
  return lines.join('\n');
}

/**
 * Runs a schedule, checking every safety invariant after every step. Throws (so fast-check
 * shrinks and reports) on the first violation, naming the invariant and the step.
 */
export function runSchedule(options: ScheduleOptions, actions: readonly Action[], checker = new SafetyChecker()): TestCluster {
  const c = newCluster(options);
  for (let step = 0; step < actions.length; step++) {
    perform(c, actions[step]!);
    const violation = checker.check(c);
    if (violation) {
      throw new Error(
        `${violation.invariant} (${INVARIANTS[violation.invariant]}) violated at step ${step} ` +
          `${describe(actions[step]!)}: ${violation.detail}\n${clusterDump(c)}`,
      );
    }
  }
  return c;
}

/** Schedules per property: enough to matter in CI; KVAPP_PROPERTY_RUNS scales it for soak runs. */
export function propertyRuns(base: number): number {
  const override = Number(process.env['KVAPP_PROPERTY_RUNS']);
  return Number.isInteger(override) && override > 0 ? override : base;
}

import fc from 'fast-check';
import { RaftError, type ConfChange, type ConfState, type NodeId, type RaftConfig } from '../../src/index.js';
import { TestCluster, bytes } from '../support/cluster.js';
import { formatMessage, formatStatus } from '../support/format.js';
import { PROPERTIES, PropertyChecker, type PropertyViolation } from './checks.js';

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
  | { readonly kind: 'heal' }
  /** The leader (the chosen node if it leads, else whoever leads) is asked for a membership change. */
  | { readonly kind: 'conf-change'; readonly node: number; readonly change: ChangeSpec }
  /** A ReadIndex request on the chosen node: a leader confirms it, a follower forwards it. */
  | { readonly kind: 'read'; readonly node: number }
  /** The leader is asked to hand leadership to the chosen node (a voter or not). */
  | { readonly kind: 'transfer'; readonly node: number; readonly to: number };

/**
 * A membership change, in terms of the id pool 1..size+2 (two spare ids to add). `target` -1
 * and 0 name invalid ids; masks pick ids from the pool by bit. Many changes are invalid from the
 * configuration at hand (remove the last voter, a learner that is a voter, joint while joint):
 * the leader must refuse them with a RaftError.
 */
export type ChangeSpec =
  | { readonly type: 'simple'; readonly action: 'add-voter' | 'add-learner' | 'remove'; readonly target: number }
  | { readonly type: 'joint'; readonly voters: number; readonly learners: number }
  | { readonly type: 'leave-joint' };

const at = fc.nat(1_000);
const node = fc.nat(15);
const rec = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> => fc.record(model, { noNullPrototype: true });

const changeArb: fc.Arbitrary<ChangeSpec> = fc.oneof(
  {
    weight: 6,
    arbitrary: rec({
      type: fc.constant('simple' as const),
      action: fc.constantFrom('add-voter' as const, 'add-learner' as const, 'remove' as const),
      target: fc.integer({ min: -1, max: 7 }),
    }),
  },
  { weight: 3, arbitrary: rec({ type: fc.constant('joint' as const), voters: fc.nat(127), learners: fc.nat(127) }) },
  { weight: 1, arbitrary: rec({ type: fc.constant('leave-joint' as const) }) },
);

export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 20, arbitrary: rec({ kind: fc.constant('deliver' as const), at }) },
  { weight: 8, arbitrary: rec({ kind: fc.constant('flush' as const), count: fc.integer({ min: 1, max: 30 }) }) },
  { weight: 3, arbitrary: rec({ kind: fc.constant('drop' as const), at }) },
  { weight: 2, arbitrary: rec({ kind: fc.constant('duplicate' as const), at }) },
  { weight: 2, arbitrary: rec({ kind: fc.constant('reorder' as const), at }) },
  // Up to two election timeouts at once: one node's clock runs ahead, and it campaigns.
  { weight: 10, arbitrary: rec({ kind: fc.constant('tick' as const), node, times: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 4, arbitrary: rec({ kind: fc.constant('tick-all' as const), times: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 8, arbitrary: rec({ kind: fc.constant('persist' as const), node, count: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 7, arbitrary: rec({ kind: fc.constant('propose' as const), node }) },
  { weight: 4, arbitrary: rec({ kind: fc.constant('partition' as const), mask: fc.nat(127) }) },
  { weight: 4, arbitrary: rec({ kind: fc.constant('heal' as const) }) },
  { weight: 3, arbitrary: rec({ kind: fc.constant('crash' as const), node }) },
  { weight: 3, arbitrary: rec({ kind: fc.constant('restart' as const), node }) },
  { weight: 1, arbitrary: rec({ kind: fc.constant('compact' as const), node }) },
  { weight: 3, arbitrary: rec({ kind: fc.constant('conf-change' as const), node, change: changeArb }) },
  { weight: 4, arbitrary: rec({ kind: fc.constant('read' as const), node }) },
  { weight: 2, arbitrary: rec({ kind: fc.constant('transfer' as const), node, to: node }) },
);

/** A schedule: the cluster's seed (election timeouts) and its actions. */
export const scheduleArb = fc.record(
  { seed: fc.nat(1_000_000), actions: fc.array(actionArb, { minLength: 100, maxLength: 400, size: 'max' }) },
  { noNullPrototype: true },
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
    // Half the schedules with each way of telling followers the commit index.
    config: { messageBytesMax: 100, inflightAppendsMax: 4, eagerCommitUpdates: options.seed % 2 === 0, ...options.config },
  });
}

/** Codes a leader may refuse a membership change with. */
const CONF_CHANGE_REFUSALS = new Set([
  'NOT_LEADER',
  'TRANSFER_IN_PROGRESS',
  'CONF_CHANGE_PENDING',
  'CONF_CHANGE_INVALID',
  'UNCOMMITTED_BYTES_EXCEEDED',
]);

/** The ids a schedule may use: the first members and two spares to add. */
export function idPool(size: number): NodeId[] {
  return Array.from({ length: size + 2 }, (_, i) => i + 1);
}

function toConfChange(spec: ChangeSpec, pool: readonly NodeId[]): ConfChange {
  const fromMask = (mask: number): NodeId[] => pool.filter((_, i) => (mask >> i) & 1);
  switch (spec.type) {
    case 'simple': {
      const node = spec.target <= 0 ? spec.target : pool[(spec.target - 1) % pool.length]!;
      return { kind: 'simple', action: spec.action, node };
    }
    case 'joint':
      return { kind: 'joint', voters: fromMask(spec.voters), learners: fromMask(spec.learners) };
    case 'leave-joint':
      return { kind: 'leave-joint' };
  }
}

/** The configuration the most advanced live node has applied: what crashes must keep a quorum of. */
function currentConf(c: TestCluster): ConfState | undefined {
  let best: { applied: number; conf: ConfState } | undefined;
  for (const id of c.ids()) {
    if (c.down.has(id)) continue;
    const s = c.node(id).status();
    if (s.conf.voters.length > 0 && (best === undefined || s.applied > best.applied)) best = { applied: s.applied, conf: s.conf };
  }
  return best?.conf;
}

function keepsQuorum(voters: readonly NodeId[], down: ReadonlySet<NodeId>): boolean {
  const alive = voters.filter((id) => !down.has(id)).length;
  return alive * 2 > voters.length;
}

/** One schedule being run: the cluster, its checker and the counters that name requests. */
export class ScheduleRun {
  readonly c: TestCluster;
  readonly checker = new PropertyChecker();
  private readonly pool: NodeId[];
  private proposals = 0;
  private reads = 0;

  constructor(readonly options: ScheduleOptions) {
    this.c = newCluster(options);
    this.pool = idPool(options.size);
    this.checker.attach(this.c);
  }

  /** Delivers the message at `position`, then checks election safety and reads at once. */
  private deliver(position: number): PropertyViolation | undefined {
    this.c.deliverAt(position);
    return this.checker.afterMessage(this.c);
  }

  /** Whoever should take a client request: the chosen node if it leads, else the newest leader. */
  private leaderFor(chosen: NodeId): NodeId | undefined {
    const c = this.c;
    return !c.down.has(chosen) && c.node(chosen).status().role === 'leader' ? chosen : c.leader();
  }

  /** Performs one action; an action that cannot apply (nothing to deliver, node up already...) does nothing. */
  perform(action: Action): void {
    const c = this.c;
    const ids = c.ids();
    const pick = (n: number): NodeId => ids[n % ids.length]!;
    switch (action.kind) {
      case 'deliver':
      case 'drop':
      case 'duplicate':
      case 'reorder': {
        if (c.inFlight.length === 0) return;
        const position = action.at % c.inFlight.length;
        if (action.kind === 'deliver') this.deliver(position);
        else if (action.kind === 'drop') c.dropAt(position);
        else if (action.kind === 'duplicate') c.duplicateAt(position);
        else c.moveToEnd(position);
        return;
      }
      case 'flush':
        // A calm stretch: disks finish their writes and the oldest messages arrive in order, each one checked.
        for (let i = 0; i < action.count; i++) {
          for (const id of ids) c.completeWrites(id);
          if (c.inFlight.length === 0 || this.deliver(0)) return;
        }
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
        const target = this.leaderFor(pick(action.node));
        if (target === undefined) return;
        try {
          c.node(target).propose(bytes(`p${++this.proposals}`));
        } catch (error) {
          if (!(error instanceof RaftError)) throw error;
        }
        c.processReady(target);
        return;
      }
      case 'conf-change':
        this.confChange(this.leaderFor(pick(action.node)), toConfChange(action.change, this.pool));
        return;
      case 'read': {
        const id = pick(action.node);
        if (c.down.has(id)) return;
        const context = `r${++this.reads}`;
        this.checker.readRequested(c, id, context);
        try {
          c.node(id).readIndex(bytes(context));
        } catch (error) {
          // NOT_LEADER, READ_NOT_READY, READ_QUEUE_FULL: the client retries elsewhere.
          if (!(error instanceof RaftError)) throw error;
        }
        c.processReady(id);
        return;
      }
      case 'transfer': {
        const leader = this.leaderFor(pick(action.node));
        if (leader === undefined) return;
        this.checker.stats.transfersRequested++;
        try {
          c.node(leader).transferLeadership(pick(action.to));
        } catch (error) {
          if (!(error instanceof RaftError)) throw error; // NOT_LEADER, UNKNOWN_NODE (not a voter)
        }
        c.processReady(leader);
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
        if (c.down.has(id)) return;
        // Keep a quorum of the configuration alive so that schedules keep doing something interesting.
        const conf = currentConf(c);
        const down = new Set([...c.down, id]);
        if (conf && !(keepsQuorum(conf.voters, down) && (conf.votersOutgoing.length === 0 || keepsQuorum(conf.votersOutgoing, down)))) {
          return;
        }
        // With asyncWrites, some of its pending writes may have reached the disk (the rest of the node number decides how many).
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

  /**
   * Proposes a membership change on `leader`. A refusal must be a RaftError with one of the
   * expected codes and leave the leader's log and configuration as they were. An accepted change
   * that names a node the cluster does not have yet starts that node, empty: it learns the
   * membership from the log.
   */
  private confChange(leader: NodeId | undefined, change: ConfChange): void {
    const c = this.c;
    if (leader === undefined) return;
    const node = c.node(leader);
    const before = node.status();
    const readyBefore = node.hasReady();
    this.checker.stats.confChangesProposed++;
    try {
      node.proposeConfChange(change);
    } catch (error) {
      this.checker.stats.confChangesRefused++;
      if (!(error instanceof RaftError) || !CONF_CHANGE_REFUSALS.has(error.code)) {
        this.checker.fail('confChangeRefusal', `${JSON.stringify(change)} on leader ${leader} threw ${String(error)}`);
        return;
      }
      const after = node.status();
      if (
        after.lastIndex !== before.lastIndex ||
        JSON.stringify(after.conf) !== JSON.stringify(before.conf) ||
        node.hasReady() !== readyBefore
      ) {
        this.checker.fail(
          'confChangeRefusal',
          `${JSON.stringify(change)} refused (${error.code}) but leader ${leader} changed: last ${before.lastIndex} -> ${after.lastIndex}, ` +
            `conf ${JSON.stringify(before.conf)} -> ${JSON.stringify(after.conf)}`,
        );
      }
      return;
    }
    const named = change.kind === 'simple' ? [change.node] : change.kind === 'joint' ? [...change.voters, ...change.learners] : [];
    for (const id of named) if (!c.nodes.has(id)) c.addNode(id);
    c.processReady(leader);
  }

  /** Runs every check now. */
  check(): PropertyViolation | undefined {
    return this.checker.afterAction(this.c);
  }
}

function describe(action: Action): string {
  return JSON.stringify(action);
}

/** What the cluster looked like, for failure messages. */
export function clusterDump(c: TestCluster): string {
  const lines = c
    .ids()
    .map((id) => (c.down.has(id) ? `${id}: down` : `${formatStatus(c.node(id))} conf=${JSON.stringify(c.node(id).status().conf)}`));
  lines.push(`${c.inFlight.length} in flight${c.inFlight.length > 0 ? `, first: ${formatMessage(c.inFlight[0]!)}` : ''}`);
  return lines.join('\n');
}

export function formatViolation(v: PropertyViolation): string {
  return `${v.property} (${PROPERTIES[v.property]}): ${v.detail}`;
}

/**
 * Runs a schedule, checking election safety and reads after every delivered message and every
 * property after every action. Throws (so fast-check shrinks and reports) on the first
 * violation, naming the property and the step.
 */
export function runSchedule(options: ScheduleOptions, actions: readonly Action[]): ScheduleRun {
  const run = new ScheduleRun(options);
  for (let step = 0; step < actions.length; step++) {
    run.perform(actions[step]!);
    const violation = run.check();
    if (violation) throw new Error(`${formatViolation(violation)}\nat step ${step} ${describe(actions[step]!)}\n${clusterDump(run.c)}`);
  }
  return run;
}

/** Schedules per property: enough to matter in CI; KVAPP_PROPERTY_RUNS scales it for soak runs. */
export function propertyRuns(base: number): number {
  const override = Number(process.env['KVAPP_PROPERTY_RUNS']);
  return Number.isInteger(override) && override > 0 ? override : base;
}

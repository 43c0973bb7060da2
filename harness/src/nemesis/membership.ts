import type { MemberInfo, Outcome } from '@kvapp/client';
import type { OpSeen } from '../workload/workload.js';
import type { Random } from './partitions.js';

/**
 * The membership nemesis' steps (kinds/membership.ts), apart from the real cluster so that a test
 * can play them on a stub: each step changes the configuration through the admin API, waits for
 * every change to take, and leaves the cluster with as many voters as it found, all healthy. Every
 * wait is bounded and says what it waited for and what it saw last.
 */

/** The kinds of step; a run draws them from its seed (stepOrder). */
export const stepKinds = ['remove-rejoin', 'replace', 'grow-shrink', 'kill-mid-change', 'kill-mid-joint'] as const;
export type StepKind = (typeof stepKinds)[number];

/** What a step needs of the cluster; KvCluster gives it in kinds/membership.ts, a test a stub. */
export interface MembershipDriver {
  /** The nodes the harness keeps running now. */
  ids(): readonly string[];
  /** The node that says it leads (by /health), or null. */
  leader(): Promise<string | null>;
  /** The members as the leader lists them; null when no answer. */
  members(): Promise<readonly MemberInfo[] | null>;
  /** Admin requests: add `id` as a learner (with the addresses the harness gives it), promote, remove. */
  add(id: string): Promise<Outcome>;
  promote(id: string): Promise<Outcome>;
  remove(id: string): Promise<Outcome>;
  /** Voter `id` out, learner `by` in, in one joint change. */
  replace(id: string, by: string): Promise<Outcome>;
  /** Starts a new node with a new id and an empty data dir that joins (kvapp-node --join); returns its id. */
  startJoining(): Promise<string>;
  /** Stops a node's process for good; it leaves ids() and the clients' endpoints. */
  retire(id: string): Promise<void>;
  /** kill -9, and start again (same data dir, same flags). */
  kill(id: string): Promise<void>;
  restart(id: string): Promise<void>;
  /** Every node of ids() healthy under one leader. */
  healthy(): Promise<boolean>;
  /** The workload's clients (and the final reads) take the endpoints of ids() now. */
  endpointsChanged(): void;
  /** The run clock (ns), for the configuration's times in nemesis.jsonl. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface StepBounds {
  /** For one configuration change to show in the leader's member list. */
  readonly changeMsMax: number;
  /** For a new node to start, join, catch up and be promoted (or a re-added one to be promotable). */
  readonly joinMsMax: number;
  /** For every node to be healthy under one leader after the step. */
  readonly healthyMsMax: number;
  readonly pollMs: number;
}

export const stepBoundsDefault: StepBounds = { changeMsMax: 10_000, joinMsMax: 20_000, healthyMsMax: 10_000, pollMs: 100 };

/** A configuration as the report draws it. */
export interface ConfView {
  readonly voters: readonly number[];
  readonly learners: readonly number[];
  /** Voters of the old side of a joint change. */
  readonly leaving: readonly number[];
}

/** One change seen during a step: the configuration from `t` (run clock, ns) on. */
export interface ConfChange extends ConfView {
  readonly t: number;
  readonly what: string;
}

/** A step's record: its end line's detail in nemesis.jsonl (with the availability figures). */
export interface StepRecord {
  readonly step: StepKind;
  /** What it did, in order, e.g. ['remove 2 (leader)', 'add 2', 'promote 2']. */
  readonly actions: readonly string[];
  readonly confBefore: ConfView;
  readonly changes: readonly ConfChange[];
  readonly confAfter: ConfView;
  readonly ms: number;
  /** Nodes started and retired by the step. */
  readonly added: readonly string[];
  readonly retired: readonly string[];
}

export class MembershipStepError extends Error {}

/** A seeded order of the four kinds (a permutation); the nemesis takes steps from it, then draws another. */
export function stepOrder(random: Random): StepKind[] {
  const order = [...stepKinds];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

export function confOf(members: readonly MemberInfo[]): ConfView {
  const ids = (role: string): number[] =>
    members
      .filter((m) => m.role === role)
      .map((m) => m.id)
      .sort((a, b) => a - b);
  return { voters: ids('voter'), learners: ids('learner'), leaving: ids('leaving') };
}

export function describeConf(c: ConfView): string {
  const parts = [`voters ${c.voters.join(',') || '-'}`];
  if (c.learners.length > 0) parts.push(`learners ${c.learners.join(',')}`);
  if (c.leaving.length > 0) parts.push(`leaving ${c.leaving.join(',')}`);
  return parts.join(' · ');
}

/** Availability of the workload during one step's window. */
export interface StepAvailability {
  /** Operations invoked in the window (and completed by the time it was measured). */
  readonly ops: number;
  readonly ok: number;
  /** ok / ops; null without operations. */
  readonly share: number | null;
  /** The longest stretch of the window without an ok write (write, cas or delete), ms. */
  readonly okWriteGapMs: number;
}

/** Pure: the availability of `ops` (performance.now() times) in [fromMs, toMs]. */
export function stepAvailability(ops: readonly OpSeen[], fromMs: number, toMs: number): StepAvailability {
  const inWindow = ops.filter((o) => o.invokedMs >= fromMs && o.invokedMs <= toMs);
  const ok = inWindow.filter((o) => o.status === 'ok').length;
  const writes = ops
    .filter((o) => o.f !== 'read' && o.status === 'ok' && o.completedMs >= fromMs && o.completedMs <= toMs)
    .map((o) => o.completedMs)
    .sort((a, b) => a - b);
  let gap = 0;
  let last = fromMs;
  for (const t of [...writes, toMs]) {
    gap = Math.max(gap, t - last);
    last = t;
  }
  return {
    ops: inWindow.length,
    ok,
    share: inWindow.length === 0 ? null : Math.round((ok / inWindow.length) * 1000) / 1000,
    okWriteGapMs: Math.round(Math.max(0, gap)),
  };
}

/** The line results.json, the chaos output and report.html show for one step (NemesisModule.note). */
export function membershipNote(d: Record<string, unknown>): string | null {
  const step = typeof d['step'] === 'string' ? d['step'] : '?';
  const actions = Array.isArray(d['actions']) ? (d['actions'] as unknown[]).join(', ') : '';
  if (typeof d['healError'] === 'string') return `${step} failed (${actions || 'before any change'}): ${d['healError']}`;
  const a = d['availability'] as Partial<StepAvailability> | undefined;
  const after = d['confAfter'] as ConfView | undefined;
  if (a === undefined || typeof d['ms'] !== 'number') return null;
  const share = typeof a.share === 'number' ? `${(a.share * 100).toFixed(1)}%` : 'n/a';
  return (
    `${step} (${actions}) in ${((d['ms'] as number) / 1000).toFixed(2)} s: ` +
    `${a.ok ?? '?'}/${a.ops ?? '?'} ops ok (${share}), longest gap without an ok write ${a.okWriteGapMs ?? '?'} ms` +
    (after ? `; after: ${describeConf(after)}` : '')
  );
}

/** Runs one step and records it; throws MembershipStepError when a change does not take in time. */
export async function runStep(
  kind: StepKind,
  d: MembershipDriver,
  random: Random,
  bounds: StepBounds = stepBoundsDefault,
  /** Filled with what the step did as it goes, so that a failed step's end line still says so. */
  actions: string[] = [],
): Promise<StepRecord> {
  const step = new Step(kind, d, bounds, actions);
  return step.run(random);
}

function isOk(o: Outcome): boolean {
  return o.status === 'ok';
}

function outcomeText(o: Outcome | null): string {
  if (o === null) return 'none';
  if (o.status === 'ok') return 'ok';
  if (o.status === 'fail') return `${o.error.code}: ${o.error.message}`;
  return `indeterminate: ${o.reason}`;
}

class Step {
  private readonly changes: ConfChange[] = [];
  private readonly added: string[] = [];
  private readonly retired: string[] = [];
  private lastMembers: readonly MemberInfo[] | null = null;

  constructor(
    private readonly kind: StepKind,
    private readonly d: MembershipDriver,
    private readonly b: StepBounds,
    private readonly actions: string[],
  ) {}

  async run(random: Random): Promise<StepRecord> {
    const startedMs = performance.now();
    const before = await this.waitMembers(
      (m) => confOf(m).leaving.length === 0 && confOf(m).learners.length === 0,
      'a settled configuration before the step',
      this.b.changeMsMax,
    );
    const confBefore = confOf(before);
    const voters = confBefore.voters.map(String);
    if (this.kind === 'remove-rejoin') await this.removeRejoin(voters, random);
    else if (this.kind === 'replace') await this.replace(voters, random);
    else if (this.kind === 'grow-shrink') await this.growShrink(voters, random);
    else if (this.kind === 'kill-mid-change') await this.killMidChange(voters, random);
    else await this.killMidJoint(voters, random);
    const after = await this.waitSteady(this.d.ids());
    return {
      step: this.kind,
      actions: this.actions,
      confBefore,
      changes: this.changes,
      confAfter: confOf(after),
      ms: Math.round(performance.now() - startedMs),
      added: this.added,
      retired: this.retired,
    };
  }

  /** A voter (the leader a third of the time) is removed, added back as a learner with its data dir, promoted. */
  private async removeRejoin(voters: string[], random: Random): Promise<void> {
    const target = await this.pickVoter(voters, random);
    await this.removeNode(target.id, target.note);
    await this.addBack(target.id);
  }

  /** A fresh node (new id, empty data dir) joins through the proxies and is promoted; the old one is removed and stopped. */
  private async replace(voters: string[], random: Random): Promise<void> {
    const old = await this.pickVoter(voters, random);
    await this.joinNew();
    await this.removeNode(old.id, old.note);
    await this.retire(old.id);
  }

  /** Two fresh nodes join one after the other (3 → 5 voters); then two of the five, drawn, are removed and stopped. */
  private async growShrink(voters: string[], random: Random): Promise<void> {
    await this.joinNew();
    await this.joinNew();
    await this.waitSteady(this.d.ids());
    const all = [...voters, ...this.added];
    const order = [...all];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const leader = await this.d.leader();
    for (const id of order.slice(0, all.length - voters.length)) {
      await this.removeNode(id, id === leader ? ' (leader)' : '');
      await this.retire(id);
    }
  }

  /**
   * A voter's removal is proposed and, a few ms later, the leader (half the time) or another voter
   * is killed -9, then started again a second later. The removal takes or not; either way the
   * voter ends up removed, then added back and promoted.
   */
  private async killMidChange(voters: string[], random: Random): Promise<void> {
    const target = await this.pickVoter(voters, random);
    const settled = await this.underKill(`remove ${target.id}${target.note}`, 'removal', () => this.d.remove(target.id), voters, random);
    if (settled.some((m) => m.id === Number(target.id))) {
      this.actions.push(`removal of ${target.id} did not take`);
      await this.removeNode(target.id, '');
    } else this.record(settled, `removed ${target.id}`);
    await this.addBack(target.id);
  }

  /**
   * Proposes a change and, 0-30 ms later, kills -9 the leader (half the time, when it is one of
   * `voters`) or another of `voters`, starting it again a second later. Resolves with the members
   * once the change finished or was abandoned (no joint configuration left).
   */
  private async underKill(
    what: string,
    answerName: string,
    propose: () => Promise<Outcome>,
    voters: readonly string[],
    random: Random,
  ): Promise<readonly MemberInfo[]> {
    const leader = await this.d.leader();
    const others = voters.filter((v) => v !== leader);
    const victim = leader !== null && voters.includes(leader) && random() < 0.5 ? leader : others[Math.floor(random() * others.length)]!;
    const afterMs = Math.floor(random() * 30);
    this.actions.push(what, `kill ${victim}${victim === leader ? ' (leader)' : ''} ${afterMs} ms later`);
    const proposed = propose();
    await this.d.sleep(afterMs);
    await this.d.kill(victim);
    await this.d.sleep(1000);
    await this.d.restart(victim);
    const outcome = await proposed;
    this.actions.push(`restart ${victim}`, `${answerName} answered ${outcome.status}`);
    return this.waitMembers((m) => confOf(m).leaving.length === 0, 'the interrupted change to finish', this.b.healthyMsMax);
  }

  /**
   * A joint change under a kill: a voter is removed and added back as a learner (the standby),
   * then another voter is replaced by it in one joint change, and 0-30 ms after proposing it the
   * leader (half the time) or another voter is killed -9 and started again a second later. Whether
   * the joint change finished or was abandoned, the step then restores the voters it began with.
   */
  private async killMidJoint(voters: string[], random: Random): Promise<void> {
    const standby = await this.pickVoter(voters, random);
    await this.removeNode(standby.id, standby.note);
    this.actions.push(`add ${standby.id}`);
    const present = (m: readonly MemberInfo[]): boolean => m.some((x) => x.id === Number(standby.id));
    this.record(
      await this.retryUntil(() => this.d.add(standby.id), present, `node ${standby.id} added as a learner`),
      `added ${standby.id} (learner)`,
    );
    const rest = voters.filter((v) => v !== standby.id);
    const out = rest[Math.floor(random() * rest.length)]!;
    // The leader refuses a learner that lags; a refused replace leaves the standby a learner,
    // which the end of the step promotes.
    await this.waitMembers(
      (m) => m.some((x) => x.id === Number(standby.id) && (x.lag ?? 0) <= 100),
      `learner ${standby.id} caught up`,
      this.b.joinMsMax,
    );
    const settled = await this.underKill(`replace ${out} by ${standby.id}`, 'replace', () => this.d.replace(out, standby.id), rest, random);
    this.record(settled, `joint change ${out} -> ${standby.id} settled`);
    const role = (id: string) => settled.find((m) => m.id === Number(id))?.role;
    if (role(standby.id) !== 'voter') {
      this.actions.push(`promote ${standby.id}`);
      await this.promote(standby.id);
    }
    if (role(out) !== 'voter') {
      if (role(out) === undefined) await this.addBack(out);
      else {
        this.actions.push(`promote ${out}`);
        await this.promote(out);
      }
    }
  }

  private async pickVoter(voters: string[], random: Random): Promise<{ id: string; note: string }> {
    const leader = await this.d.leader();
    const wantLeader = random() < 1 / 3;
    const followers = voters.filter((v) => v !== leader);
    if ((wantLeader && leader !== null && voters.includes(leader)) || followers.length === 0) return { id: leader!, note: ' (leader)' };
    return { id: followers[Math.floor(random() * followers.length)]!, note: '' };
  }

  private async removeNode(id: string, note: string): Promise<void> {
    if (!this.actions.includes(`remove ${id}${note}`)) this.actions.push(`remove ${id}${note}`);
    const gone = (m: readonly MemberInfo[]): boolean => !m.some((x) => x.id === Number(id)) && confOf(m).leaving.length === 0;
    const members = await this.retryUntil(() => this.d.remove(id), gone, `node ${id} removed`);
    this.record(members, `removed ${id}`);
  }

  /** Adds a removed node back as a learner (it kept running, with its data dir), then promotes it. */
  private async addBack(id: string): Promise<void> {
    this.actions.push(`add ${id}`);
    const present = (m: readonly MemberInfo[]): boolean => m.some((x) => x.id === Number(id));
    this.record(await this.retryUntil(() => this.d.add(id), present, `node ${id} added as a learner`), `added ${id} (learner)`);
    this.actions.push(`promote ${id}`);
    await this.promote(id);
  }

  private async promote(id: string): Promise<void> {
    const voter = (m: readonly MemberInfo[]): boolean =>
      m.some((x) => x.id === Number(id) && x.role === 'voter') && confOf(m).leaving.length === 0;
    this.record(
      await this.retryUntil(() => this.d.promote(id), voter, `node ${id} a voter after promote`, this.b.joinMsMax),
      `promoted ${id}`,
    );
  }

  /** Starts a fresh node that joins and promotes itself; waits until it is a voter, then the clients learn its endpoint. */
  private async joinNew(): Promise<string> {
    const id = await this.d.startJoining();
    this.added.push(id);
    this.actions.push(`join ${id}`);
    const present = await this.waitMembers(
      (m) => m.some((x) => x.id === Number(id)),
      `new node ${id} added as a learner`,
      this.b.joinMsMax,
    );
    this.record(present, `added ${id} (learner)`);
    const voter = await this.waitMembers(
      (m) => m.some((x) => x.id === Number(id) && x.role === 'voter') && confOf(m).leaving.length === 0,
      `new node ${id} a voter (it promotes itself once caught up)`,
      this.b.joinMsMax,
    );
    this.record(voter, `promoted ${id}`);
    this.d.endpointsChanged();
    return id;
  }

  private async retire(id: string): Promise<void> {
    this.actions.push(`stop ${id}`);
    this.retired.push(id);
    await this.d.retire(id);
    this.d.endpointsChanged();
  }

  /** Sends `request` (again every second while the change has not shown) until `done` holds; bounded. */
  private async retryUntil(
    request: () => Promise<Outcome>,
    done: (m: readonly MemberInfo[]) => boolean,
    what: string,
    msMax = this.b.changeMsMax,
  ): Promise<readonly MemberInfo[]> {
    const deadline = performance.now() + msMax;
    let last: Outcome | null = null;
    let sentAt = -Infinity;
    for (;;) {
      const m = await this.d.members();
      if (m !== null) this.lastMembers = m;
      if (m !== null && done(m)) return m;
      if (performance.now() >= deadline) {
        throw new MembershipStepError(
          `${this.kind}: ${what} not seen within ${msMax} ms (last request: ${outcomeText(last)}; members ${this.describeLast()})`,
        );
      }
      if (performance.now() - sentAt >= 1000 && !(last !== null && isOk(last) && performance.now() - sentAt < 3000)) {
        sentAt = performance.now();
        last = await request();
        continue;
      }
      await this.d.sleep(this.b.pollMs);
    }
  }

  private async waitMembers(done: (m: readonly MemberInfo[]) => boolean, what: string, msMax: number): Promise<readonly MemberInfo[]> {
    const deadline = performance.now() + msMax;
    for (;;) {
      const m = await this.d.members();
      if (m !== null) this.lastMembers = m;
      if (m !== null && done(m)) return m;
      if (performance.now() >= deadline)
        throw new MembershipStepError(`${this.kind}: ${what} not seen within ${msMax} ms (members ${this.describeLast()})`);
      await this.d.sleep(this.b.pollMs);
    }
  }

  /** The running nodes are exactly the voters, no learner or joint change is left, and every one is healthy. */
  private async waitSteady(ids: readonly string[]): Promise<readonly MemberInfo[]> {
    const want = [...ids]
      .map(Number)
      .sort((a, b) => a - b)
      .join(',');
    const deadline = performance.now() + this.b.healthyMsMax;
    for (;;) {
      const m = await this.d.members();
      if (m !== null) this.lastMembers = m;
      const c = m === null ? null : confOf(m);
      if (c !== null && c.voters.join(',') === want && c.learners.length === 0 && c.leaving.length === 0 && (await this.d.healthy()))
        return m!;
      if (performance.now() >= deadline) {
        throw new MembershipStepError(
          `${this.kind}: the cluster not steady within ${this.b.healthyMsMax} ms (want voters ${want}, every node healthy; members ${this.describeLast()})`,
        );
      }
      await this.d.sleep(this.b.pollMs);
    }
  }

  private record(members: readonly MemberInfo[], what: string): void {
    this.changes.push({ t: this.d.now(), what, ...confOf(members) });
  }

  private describeLast(): string {
    return this.lastMembers === null ? 'never listed' : describeConf(confOf(this.lastMembers));
  }
}

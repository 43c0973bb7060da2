import type { Entry, NodeId } from '../raft/types.js';
import { decodeConfChange, type MemberAddresses } from '../raft/conf-change.js';
import { assert } from '../assert.js';
import { utf8Length } from './bytes.js';
import { decodeCommand, KvCommandError, type KvCommand } from './command.js';
import { checkKvOptions, kvOptionsDefault, type KvOptions } from './options.js';
import type { KvResult } from './result.js';
import { SessionTable } from './sessions.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot.js';

/**
 * The replicated key-value store: a pure function of the committed log. Every replica that
 * applies the same entries holds the same data and returns the same result for each entry.
 */
export class KvStateMachine {
  private readonly data = new Map<string, string>();
  private readonly sessions: SessionTable;
  private applied = 0;
  /**
   * Members' addresses, from the conf-change entries that added them; a member leaves it when a
   * configuration no longer names it. Replicated state, so it survives restarts and snapshots.
   */
  private readonly members = new Map<NodeId, MemberAddresses>();
  /** The log's clock: the highest nowMs applied. A max, so it never goes back across leaders. */
  private clock = 0;
  readonly options: KvOptions;

  constructor(options: Partial<KvOptions> = {}) {
    this.options = { ...kvOptionsDefault, ...options };
    const bad = checkKvOptions(this.options);
    assert(bad === null, bad ?? '');
    this.sessions = new SessionTable(this.options.sessionsMax, this.options.sessionIdleMsMax);
  }

  /** Invariant: every entry up to and including this index has been applied, and no other. */
  get appliedIndex(): number {
    return this.applied;
  }

  get clockMs(): number {
    return this.clock;
  }

  get keyCount(): number {
    return this.data.size;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Addresses of the members added through the log (bootstrap members are not here). */
  get memberAddresses(): ReadonlyMap<NodeId, MemberAddresses> {
    return this.members;
  }

  /** Serves a linearizable read once `appliedIndex` has reached the read's ReadIndex. */
  read(key: string): string | null {
    return this.data.get(key) ?? null;
  }

  /**
   * Applies the next committed entry. Returns null for entries that are not commands (a leader's
   * empty no-op, a conf change). A malformed command is answered `rejected` KV_BAD_COMMAND rather
   * than thrown: the entry is committed, and throwing would crash every replica on it forever.
   */
  apply(entry: Entry): KvResult | null {
    assert(entry.index === this.applied + 1, `apply index ${entry.index} after ${this.applied}`);
    this.applied = entry.index;
    if (entry.type === 'conf-change') {
      this.applyMembership(entry.data);
      return null;
    }
    if (entry.type !== 'normal' || entry.data.length === 0) return null;
    let cmd: KvCommand;
    try {
      cmd = decodeCommand(entry.data);
    } catch (err) {
      if (!(err instanceof KvCommandError)) throw err;
      return { type: 'rejected', code: 'KV_BAD_COMMAND', message: err.message };
    }
    this.clock = Math.max(this.clock, cmd.nowMs);
    this.sessions.expire(this.clock);
    if (cmd.kind === 'register') {
      // The entry index is unique for the life of the log, so ids are never reused.
      const clientId = String(entry.index);
      this.sessions.open(clientId, this.clock);
      return { type: 'registered', clientId };
    }
    if (cmd.session === null) return this.execute(cmd);
    const answer = this.sessions.check(cmd.session, this.clock);
    if (answer !== null) return answer;
    const result = this.execute(cmd);
    this.sessions.complete(cmd.session, result, this.clock);
    return result;
  }

  private applyMembership(data: Uint8Array): void {
    let decoded: ReturnType<typeof decodeConfChange>;
    try {
      decoded = decodeConfChange(data);
    } catch {
      // Raft never applies a malformed conf change (it asserts first); here it changes nothing,
      // like any entry that is not a command.
      return;
    }
    const { change, conf } = decoded;
    if (change.kind === 'simple' && change.action !== 'remove' && change.addresses !== undefined) {
      this.members.set(change.node, { peer: change.addresses.peer, client: change.addresses.client });
    }
    const named = new Set([...conf.voters, ...conf.learners, ...conf.votersOutgoing]);
    for (const id of [...this.members.keys()]) if (!named.has(id)) this.members.delete(id);
  }

  private execute(cmd: Exclude<KvCommand, { kind: 'register' }>): KvResult {
    const tooLarge = this.checkSizes(cmd);
    if (tooLarge !== null) return tooLarge;
    const prev = this.data.get(cmd.key) ?? null;
    switch (cmd.kind) {
      case 'get':
        return { type: 'ok', value: prev };
      case 'put':
        this.data.set(cmd.key, cmd.value);
        return { type: 'ok', value: prev };
      case 'delete':
        this.data.delete(cmd.key);
        return { type: 'ok', value: prev };
      case 'cas':
        if (prev !== cmd.expected) return { type: 'cas-mismatch', current: prev };
        this.data.set(cmd.key, cmd.value);
        return { type: 'ok', value: prev };
    }
  }

  private checkSizes(cmd: Exclude<KvCommand, { kind: 'register' }>): KvResult | null {
    const { keyBytesMax, valueBytesMax } = this.options;
    const keyBytes = utf8Length(cmd.key);
    if (keyBytes > keyBytesMax) {
      return { type: 'rejected', code: 'KV_KEY_TOO_LARGE', message: `key is ${keyBytes} bytes, keyBytesMax is ${keyBytesMax}` };
    }
    const values = cmd.kind === 'put' ? [cmd.value] : cmd.kind === 'cas' ? [cmd.value, cmd.expected ?? ''] : [];
    for (const v of values) {
      const bytes = utf8Length(v);
      if (bytes > valueBytesMax) {
        return { type: 'rejected', code: 'KV_VALUE_TOO_LARGE', message: `value is ${bytes} bytes, valueBytesMax is ${valueBytesMax}` };
      }
    }
    return null;
  }

  /** The state at `appliedIndex`, versioned; identical bytes on replicas in the same state. */
  snapshot(): Uint8Array {
    const keys = [...this.data.keys()].sort();
    return encodeSnapshot({
      appliedIndex: this.applied,
      clockMs: this.clock,
      options: this.options,
      data: keys.map((k) => [k, this.data.get(k)!] as const),
      sessions: [...this.sessions.all()],
      members: [...this.members.entries()].sort(([a], [b]) => a - b),
    });
  }

  /** Throws KvSnapshotError (KV_BAD_SNAPSHOT) for malformed bytes. Options come from the snapshot. */
  static restore(bytes: Uint8Array): KvStateMachine {
    const s = decodeSnapshot(bytes);
    const sm = new KvStateMachine(s.options);
    sm.applied = s.appliedIndex;
    sm.clock = s.clockMs;
    for (const [k, v] of s.data) sm.data.set(k, v);
    for (const rec of s.sessions) sm.sessions.load(rec);
    for (const [id, addresses] of s.members) sm.members.set(id, addresses);
    return sm;
  }
}

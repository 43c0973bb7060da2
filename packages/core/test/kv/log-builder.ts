import fc from 'fast-check';
import type { Entry } from '../../src/raft/types.js';
import { encodeCommand, type KvCommand } from '../../src/kv/command.js';

type Cmd = KvCommand;

export type Step =
  | { t: 'register'; dtMs: number }
  | {
      t: 'cmd';
      client: number;
      seq: 'next' | 'retry' | 'stale' | 'skip';
      op: 'get' | 'put' | 'delete' | 'cas';
      key: number;
      value: number;
      dtMs: number;
      backInTime: boolean;
    }
  | { t: 'noop' }
  | { t: 'conf' }
  | { t: 'garbage'; bytes: Uint8Array };

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('register' as const), dtMs: fc.nat(80) }), weight: 2 },
  {
    arbitrary: fc.record({
      t: fc.constant('cmd' as const),
      client: fc.nat(8),
      seq: fc.constantFrom('next' as const, 'retry' as const, 'stale' as const, 'skip' as const),
      op: fc.constantFrom('get' as const, 'put' as const, 'delete' as const, 'cas' as const),
      key: fc.nat(3),
      value: fc.nat(3),
      dtMs: fc.nat(80),
      backInTime: fc.boolean(),
    }),
    weight: 12,
  },
  { arbitrary: fc.record({ t: fc.constant('noop' as const) }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('conf' as const) }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('garbage' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }), weight: 1 },
);

/** Turns steps into log entries, the way a leader and some retrying clients would. */
export function buildLog(steps: readonly Step[]): Entry[] {
  const entries: Entry[] = [];
  const clients: Array<{ id: string; seq: number }> = [];
  let now = 1000;
  const push = (type: Entry['type'], data: Uint8Array) => entries.push({ term: 1, index: entries.length + 1, type, data });
  for (const s of steps) {
    if (s.t === 'noop') push('normal', new Uint8Array(0));
    else if (s.t === 'conf') push('conf-change', Uint8Array.of(9));
    else if (s.t === 'garbage') push('normal', s.bytes);
    else if (s.t === 'register') {
      now += s.dtMs;
      push('normal', encodeCommand({ kind: 'register', nowMs: now }));
      clients.push({ id: String(entries.length), seq: 0 });
    } else {
      now += s.dtMs;
      // A deposed leader's clock may lag: stamp some entries in the past.
      const nowMs = s.backInTime ? Math.max(0, now - 150) : now;
      const c = clients.length > 0 && s.client < clients.length ? clients[s.client]! : null;
      let session = null;
      if (c !== null) {
        if (s.seq === 'next') c.seq += 1;
        else if (s.seq === 'skip') c.seq += 2;
        session = { clientId: c.id, seq: s.seq === 'stale' ? Math.max(1, c.seq - 1) : Math.max(1, c.seq) };
      } else if (s.client === 8) {
        session = { clientId: 'unknown', seq: 1 };
      }
      const key = `k${s.key}`;
      const value = `v${s.value}`;
      const cmd: Cmd =
        s.op === 'get'
          ? { kind: 'get', nowMs, session, key }
          : s.op === 'delete'
            ? { kind: 'delete', nowMs, session, key }
            : s.op === 'put'
              ? { kind: 'put', nowMs, session, key, value }
              : { kind: 'cas', nowMs, session, key, expected: s.value === 0 ? null : `v${s.value - 1}`, value };
      push('normal', encodeCommand(cmd));
    }
  }
  return entries;
}

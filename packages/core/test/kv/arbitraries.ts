import fc from 'fast-check';
import type { KvCommand } from '../../src/kv/command.js';

export const str = fc.string({ unit: 'grapheme', maxLength: 20 });
const session = fc.option(
  fc.record({ clientId: str, seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) }, { noNullPrototype: true }),
  { nil: null },
);
const nowMs = fc.nat({ max: Number.MAX_SAFE_INTEGER });

export const commandArb: fc.Arbitrary<KvCommand> = fc.oneof(
  fc.record({ kind: fc.constant('register' as const), nowMs }, { noNullPrototype: true }),
  fc.record({ kind: fc.constant('get' as const), nowMs, session, key: str }, { noNullPrototype: true }),
  fc.record({ kind: fc.constant('put' as const), nowMs, session, key: str, value: str }, { noNullPrototype: true }),
  fc.record({ kind: fc.constant('delete' as const), nowMs, session, key: str }, { noNullPrototype: true }),
  fc.record(
    { kind: fc.constant('cas' as const), nowMs, session, key: str, expected: fc.option(str, { nil: null }), value: str },
    { noNullPrototype: true },
  ),
);

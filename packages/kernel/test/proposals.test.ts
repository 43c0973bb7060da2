import t from 'tap';
import type { KvResult } from '@kvapp/core';
import type { Answer } from '../src/index.js';
import { Proposals, type PendingProposal } from '../src/proposals.js';
import { RequestError } from '../src/request-error.js';

function proposal(index: number, term: number, answers: Answer<KvResult>[]): PendingProposal {
  return { index, term, deadlineTick: 100, settled: false, reply: (a) => void answers.push(a) };
}

const entry = (index: number, term: number) => ({ index, term, type: 'normal' as const, data: new Uint8Array() });

t.test('two proposals at one index (a new leader proposed again where an old entry waited): the applied term decides', (t) => {
  const proposals = new Proposals();
  const old: Answer<KvResult>[] = [];
  const fresh: Answer<KvResult>[] = [];
  proposals.add(proposal(7, 2, old));
  proposals.add(proposal(7, 3, fresh));
  t.equal(proposals.size, 2, 'the second does not overwrite the first');
  proposals.applied(entry(7, 3), { type: 'ok', value: null });
  t.same(fresh, [{ ok: true, value: { type: 'ok', value: null } }], 'the one whose term committed gets the result');
  t.equal(old.length, 1);
  t.ok(!old[0]!.ok && old[0]!.error.code === 'PROPOSAL_DROPPED' && old[0]!.error.definite, 'the other certainly did not commit');
  t.equal(proposals.size, 0);
  t.end();
});

t.test('a snapshot that replaces the log answers what waited below it as unknown', (t) => {
  const proposals = new Proposals();
  const below: Answer<KvResult>[] = [];
  const above: Answer<KvResult>[] = [];
  proposals.add(proposal(3, 1, below));
  proposals.add(proposal(9, 1, above));
  proposals.replacedUpTo(5);
  t.ok(below[0] && !below[0].ok && below[0].error.code === 'OUTCOME_UNKNOWN' && !below[0].error.definite);
  t.same(above, [], 'above the snapshot it still waits');
  t.equal(proposals.size, 1);
  t.end();
});

t.test('settle answers once and forgets; a settled proposal is not answered again when its index applies', (t) => {
  const proposals = new Proposals();
  const answers: Answer<KvResult>[] = [];
  const p = proposal(4, 1, answers);
  proposals.add(p);
  proposals.settle(p, new RequestError('TIMEOUT', 'deadline', false));
  t.equal(answers.length, 1);
  proposals.applied(entry(4, 1), { type: 'ok', value: null });
  t.equal(answers.length, 1, 'not answered twice');
  t.equal(proposals.size, 0);
  t.end();
});

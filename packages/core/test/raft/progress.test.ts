import t from 'tap';
import fc from 'fast-check';
import { AssertionError } from '../../src/index.js';
import { Progress } from '../../src/raft/progress.js';
import { checkProperty } from '../support/property.js';

/** A progress at match/next in `state`, with a window of `window` appends and no byte limit. */
function progressAt(match: number, next: number, state: 'probe' | 'replicate' | 'snapshot' = 'probe', window = 4): Progress {
  const p = new Progress(next, window, 0, false);
  p.match = match;
  if (state === 'replicate') {
    p.becomeReplicate();
    p.next = next;
  } else if (state === 'snapshot') {
    p.becomeSnapshot(next);
  }
  return p;
}

t.test('a new progress probes from next with nothing matched', async (t) => {
  const p = new Progress(5, 4, 0, true);
  t.equal(p.state, 'probe');
  t.equal(p.match, 0);
  t.equal(p.next, 5);
  t.equal(p.isLearner, true);
  t.notOk(p.isPaused(), 'a fresh probe may send');
  t.throws(() => new Progress(0, 4, 0, false), AssertionError, 'next 0 would not be above match 0');
});

t.test('becomeReplicate and becomeProbe restart from match + 1', async (t) => {
  const p = progressAt(3, 9, 'replicate');
  p.sentEntries(10, 100, 2);
  t.equal(p.inflights.count, 1);
  p.becomeProbe();
  t.equal(p.state, 'probe');
  t.equal(p.next, 4, 'probe resumes right after match');
  t.equal(p.inflights.count, 0, 'the window is emptied');

  p.probeSent = true;
  p.becomeReplicate();
  t.equal(p.state, 'replicate');
  t.equal(p.next, 4);
  t.notOk(p.probeSent, 'a state change clears probeSent');
});

t.test('becomeProbe from snapshot resumes after the snapshot or after match, whichever is later', async (t) => {
  const behind = progressAt(3, 4);
  behind.becomeSnapshot(20);
  behind.snapshotOverdue = true;
  t.equal(behind.state, 'snapshot');
  t.equal(behind.pendingSnapshot, 20);
  behind.becomeProbe();
  t.equal(behind.next, 21, 'the snapshot is assumed to land: probe after it');
  t.equal(behind.pendingSnapshot, 0, 'no snapshot pending any more');
  t.notOk(behind.snapshotOverdue, 'the overdue mark goes with the state');

  const ahead = progressAt(3, 4);
  ahead.becomeSnapshot(20);
  ahead.maybeUpdate(25);
  ahead.becomeProbe();
  t.equal(ahead.next, 26, 'match went past the snapshot meanwhile: probe after match');
});

t.test('maybeUpdate: only a higher index is news; next never moves back', async (t) => {
  const p = progressAt(3, 10, 'replicate');
  t.ok(p.maybeUpdate(5), 'a higher match is news');
  t.equal(p.match, 5);
  t.equal(p.next, 10, 'next stays ahead: entries up to 9 are in flight');
  t.notOk(p.maybeUpdate(5), 'a duplicate ack is not news');
  t.notOk(p.maybeUpdate(4), 'a stale ack is not news');
  t.equal(p.match, 5, 'a stale ack does not lower match');
  t.ok(p.maybeUpdate(12), 'an ack beyond next');
  t.equal(p.next, 13, 'next is pulled past the acknowledged index');

  const probe = progressAt(0, 1);
  probe.probeSent = true;
  t.notOk(probe.maybeUpdate(0), 'an ack of nothing');
  t.ok(probe.probeSent, 'a stale ack does not unpause a probe');
  t.ok(probe.maybeUpdate(1));
  t.notOk(probe.probeSent, 'a real ack unpauses the probe');
});

t.test('maybeDecrTo in replicate: a rejection above match rewinds to match + 1', async (t) => {
  const p = progressAt(5, 12, 'replicate');
  t.notOk(p.maybeDecrTo(5, 1), 'rejecting an index at or below match is stale');
  t.notOk(p.maybeDecrTo(4, 1), 'rejecting an index below match is stale');
  t.equal(p.next, 12, 'a stale rejection changes nothing');
  t.ok(p.maybeDecrTo(9, 1), 'a rejection above match counts');
  t.equal(p.next, 6, 'replicate rewinds to match + 1 whatever the hint says');

  const sent = progressAt(5, 6, 'replicate');
  sent.sentEntries(8, 30, 3);
  t.ok(sent.maybeDecrTo(8, 1));
  t.equal(sent.inflights.count, 1, 'the window still holds the rejected append…');
  t.throws(() => sent.sentEntries(8, 30, 3), AssertionError, '…so resending from next without probing first is out of order');
  sent.becomeProbe();
  t.equal(sent.inflights.count, 0, 'falling back to probe (as the leader does) empties it');
});

t.test('maybeDecrTo in probe: only a rejection of the last probe counts, and the hint is clamped', async (t) => {
  const stale = progressAt(2, 10);
  stale.probeSent = true;
  t.notOk(stale.maybeDecrTo(8, 3), 'a rejection of anything but next - 1 answers an older probe');
  t.equal(stale.next, 10);
  t.ok(stale.probeSent, 'a stale rejection does not unpause');

  const hinted = progressAt(2, 10);
  hinted.probeSent = true;
  t.ok(hinted.maybeDecrTo(9, 6));
  t.equal(hinted.next, 6, 'the follower hint moves next back');
  t.notOk(hinted.probeSent, 'the rejection answers the probe: send the next one');

  const hintTooHigh = progressAt(2, 10);
  t.ok(hintTooHigh.maybeDecrTo(9, 50));
  t.equal(hintTooHigh.next, 9, 'a hint above the rejected index is capped at it');

  const hintTooLow = progressAt(4, 10);
  t.ok(hintTooLow.maybeDecrTo(9, 1));
  t.equal(hintTooLow.next, 5, 'a hint at or below match is raised to match + 1');
});

t.test('sentEntries: replicate fills the window, probe pauses until answered', async (t) => {
  const p = progressAt(0, 1, 'replicate', 2);
  p.sentEntries(3, 30, 3);
  t.equal(p.next, 4, 'optimistically past what was sent');
  t.equal(p.inflights.count, 1);
  t.notOk(p.isPaused());
  p.sentEntries(3, 0, 0);
  t.equal(p.inflights.count, 1, 'an empty append takes no slot');
  p.sentEntries(5, 20, 2);
  t.ok(p.isPaused(), 'a full window pauses');
  p.inflights.freeLE(3);
  t.notOk(p.isPaused(), 'an ack frees a slot');

  const probe = progressAt(0, 1);
  probe.sentEntries(2, 20, 2);
  t.equal(probe.next, 1, 'a probe does not move next: it waits for the answer');
  t.equal(probe.inflights.count, 0, 'a probe takes no window slot');
  t.ok(probe.isPaused(), 'one probe at a time');
  probe.sentEntries(0, 0, 0);
  t.ok(probe.isPaused(), 'an empty probe (a heartbeat-like append) pauses too');
});

t.test('sentEntries asserts that entries continue from next', async (t) => {
  const p = progressAt(5, 6, 'replicate');
  t.throws(() => p.sentEntries(5, 10, 1), AssertionError, 'entries ending at match would move next back to match');
  t.throws(() => p.sentEntries(9, 10, 1), AssertionError, 'entries after a gap');
  t.equal(p.next, 6, 'nothing changed');
  t.equal(p.inflights.count, 0);
  const probe = progressAt(5, 6);
  t.throws(() => probe.sentEntries(7, 10, 1), AssertionError, 'a probe must start at next too');
  t.notOk(probe.probeSent);
});

t.test('isPaused by state', async (t) => {
  t.notOk(progressAt(0, 1).isPaused(), 'probe with nothing out');
  t.notOk(progressAt(0, 1, 'replicate').isPaused(), 'replicate with room in the window');
  t.ok(progressAt(0, 1, 'snapshot').isPaused(), 'snapshot: no appends until it is installed');
});

// ---- property: the "match < next" invariant under any sequence of calls -----------------------

type Op =
  | { kind: 'update'; index: number }
  | { kind: 'decr'; rejectedBack: number; hint: number }
  | { kind: 'send'; count: number }
  | { kind: 'probe' }
  | { kind: 'replicate' }
  | { kind: 'snapshot'; index: number }
  | { kind: 'free'; index: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('update' as const), index: fc.nat(40) }),
  fc.record({ kind: fc.constant('decr' as const), rejectedBack: fc.nat(3), hint: fc.nat(40) }),
  fc.record({ kind: fc.constant('send' as const), count: fc.nat(4) }),
  fc.record({ kind: fc.constant('probe' as const) }),
  fc.record({ kind: fc.constant('replicate' as const) }),
  fc.record({ kind: fc.constant('snapshot' as const), index: fc.nat(40) }),
  fc.record({ kind: fc.constant('free' as const), index: fc.nat(40) }),
);

function perform(p: Progress, op: Op): void {
  switch (op.kind) {
    case 'update':
      p.maybeUpdate(op.index);
      break;
    case 'decr':
      // Mostly answers to what was just sent (next - 1), sometimes to older appends. As the leader
      // does, a rejection in replicate falls back to probing (which empties the window).
      if (p.maybeDecrTo(Math.max(0, p.next - 1 - op.rejectedBack), op.hint) && p.state === 'replicate') p.becomeProbe();
      break;
    case 'send':
      // As the leader does: only when not paused, and never in snapshot state (always paused).
      if (!p.isPaused()) p.sentEntries(p.next - 1 + op.count, 10 * op.count, op.count);
      break;
    case 'probe':
      p.becomeProbe();
      break;
    case 'replicate':
      p.becomeReplicate();
      break;
    case 'snapshot':
      p.becomeSnapshot(op.index);
      break;
    case 'free':
      p.inflights.freeLE(op.index);
      break;
  }
}

t.test('property: match < next and the window bound hold after any sequence of calls', async (t) => {
  checkProperty(
    t,
    'progress invariants',
    fc.property(fc.integer({ min: 1, max: 5 }), fc.array(opArb, { maxLength: 60 }), (next, ops) => {
      const p = new Progress(next, 3, 0, false);
      for (const op of ops) {
        const matchBefore = p.match;
        perform(p, op);
        if (!(p.match < p.next)) throw new Error(`after ${JSON.stringify(op)}: match ${p.match}, next ${p.next}`);
        if (p.match < matchBefore) throw new Error(`after ${JSON.stringify(op)}: match went back from ${matchBefore} to ${p.match}`);
        if (p.inflights.count > 3) throw new Error(`window holds ${p.inflights.count} appends`);
        if (p.state !== 'replicate' && p.inflights.count > 0) throw new Error(`a ${p.state} progress has appends in its window`);
      }
      return true;
    }),
  );
});

import t from 'tap';
import fc from 'fast-check';
import type { Ready } from '../../src/index.js';
import { TestCluster, bytes, text } from '../support/cluster.js';
import { formatMessage } from '../support/format.js';

/** A Ready as text, entries and messages included: two runs are the same iff these match. */
function describe(id: number, rd: Ready): string {
  return JSON.stringify({
    id,
    soft: rd.softState,
    hard: rd.hardState,
    entries: rd.entries.map((e) => `${e.index}@${e.term}:${text(e.data)}`),
    committed: rd.committedEntries.map((e) => e.index),
    messages: rd.messages.map(formatMessage),
    after: rd.messagesAfterPersist.map(formatMessage),
    reads: rd.readStates.map((r) => r.index),
  });
}

/** Runs a cluster on ticks alone, with proposals and a crash; returns every Ready in order. */
function trace(seed: number): string[] {
  const c = new TestCluster({ size: 5, seed });
  const readys: string[] = [];
  for (const id of c.ids()) {
    const node = c.node(id);
    const original = node.ready.bind(node);
    node.ready = () => {
      const rd = original();
      readys.push(describe(id, rd));
      return rd;
    };
  }
  for (let round = 0; round < 120; round++) {
    c.tickAll();
    c.stabilize();
    const leader = c.leader();
    if (leader !== undefined && round % 10 === 0) {
      try {
        c.node(leader).propose(bytes(`r${round}`));
      } catch {
        // refused (e.g. uncommitted limit): part of the trace too
      }
    }
    if (round === 60 && leader !== undefined) c.crash(leader);
  }
  return readys;
}

t.test('the same seed gives the same sequence of Readys', async (t) => {
  const details = fc.check(
    fc.property(fc.nat(100_000), (seed) => {
      const a = trace(seed);
      const b = trace(seed);
      return a.length > 50 && a.join('\n') === b.join('\n');
    }),
    { numRuns: 5 },
  );
  t.notOk(details.failed, details.failed ? fc.defaultReportMessage(details) : 'same Readys, seed after seed');
});

t.test('different seeds give different elections (the seed matters)', async (t) => {
  t.not(trace(1).join('\n'), trace(2).join('\n'));
});

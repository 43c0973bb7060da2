import type { Entry, KvResult } from '@kvapp/core';
import { answerError, answerOk, type Reply } from './answer.js';
import type { Expiring } from './deadlines.js';
import { RequestError } from './request-error.js';

export interface PendingProposal extends Expiring {
  /** Where the entry was placed; -1 while the proposal waits in the inbox (nothing proposed yet). */
  index: number;
  term: number;
  readonly reply: Reply<KvResult>;
}

/**
 * Proposals waiting for their entry, matched by (index, term). An index can hold several: a
 * node that lost its leadership, had its log truncated and leads again proposes anew at indexes
 * that earlier proposals still wait on. Which of them took effect is known only when the index
 * is applied: the one whose term the applied entry has; every other certainly did not.
 */
export class Proposals {
  /**
   * The planted bug `answerReplacedEntry` (KernelUnsafeSwitches): every proposal at an index gets
   * the applied entry's result, whatever its term. Off in production.
   */
  private readonly matchIndexOnly: boolean;
  private readonly byIndex = new Map<number, PendingProposal[]>();
  private count = 0;

  constructor(options: { readonly matchIndexOnly?: boolean } = {}) {
    this.matchIndexOnly = options.matchIndexOnly ?? false;
  }

  get size(): number {
    return this.count;
  }

  add(proposal: PendingProposal): void {
    const waiting = this.byIndex.get(proposal.index);
    if (waiting) waiting.push(proposal);
    else this.byIndex.set(proposal.index, [proposal]);
    this.count++;
  }

  /** The entry at `entry.index` was applied with `result` (null: it carried no command). */
  applied(entry: Entry, result: KvResult | null): void {
    const waiting = this.byIndex.get(entry.index);
    if (waiting === undefined) return;
    this.byIndex.delete(entry.index);
    for (const p of waiting) {
      this.count--;
      if (p.settled) continue;
      p.settled = true;
      if ((p.term === entry.term || this.matchIndexOnly) && result !== null) p.reply(answerOk(result));
      else
        p.reply(
          answerError(new RequestError('PROPOSAL_DROPPED', `entry ${entry.index} committed in term ${entry.term}, not ${p.term}`, true)),
        );
    }
  }

  /** A snapshot replaced the log up to `index`: what was proposed there is unknown here. */
  replacedUpTo(index: number): void {
    for (const [at, waiting] of this.byIndex) {
      if (at > index) continue;
      this.byIndex.delete(at);
      for (const p of waiting) {
        this.count--;
        if (p.settled) continue;
        p.settled = true;
        p.reply(answerError(new RequestError('OUTCOME_UNKNOWN', 'a snapshot replaced the log before the entry applied here', false)));
      }
    }
  }

  /** Answers one proposal early (deadline, stop) and forgets it. Not yet placed: nothing was proposed. */
  settle(p: PendingProposal, error: RequestError): void {
    if (p.index < 0 && !error.definite)
      error = new RequestError(error.code, `${error.message} (before it was proposed)`, true, error.leader);
    if (p.settled) return;
    p.settled = true;
    const waiting = this.byIndex.get(p.index);
    if (waiting !== undefined) {
      const at = waiting.indexOf(p);
      if (at >= 0) {
        waiting.splice(at, 1);
        this.count--;
      }
      if (waiting.length === 0) this.byIndex.delete(p.index);
    }
    p.reply(answerError(error));
  }
}

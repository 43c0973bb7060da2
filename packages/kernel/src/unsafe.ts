/**
 * Test-only switches that each break one rule of the kernel, so that the simulator can prove it
 * notices (its planted bugs). All off by default. Never set one outside a test: kvapp-node does
 * not pass them, and no configuration reaches them.
 */
export interface KernelUnsafeSwitches {
  /**
   * Sends a Ready's `messagesAfterPersist` (votes, append acknowledgements) with its `messages`,
   * before its write job completes: a crash can then lose a write whose ack a leader already
   * counted toward a quorum, or a vote already granted.
   */
  readonly ackBeforePersist?: boolean;
  /**
   * Applies each new log entry as soon as a Ready hands it over, before it is committed (and
   * answers its proposal from it); the committed entries that follow are skipped as already
   * applied. An entry later replaced by another leader's stays applied.
   */
  readonly applyUncommitted?: boolean;
  /**
   * Matches proposals to applied entries by index only, not (index, term): a proposal whose
   * entry another leader replaced gets the result of the entry that took its index.
   */
  readonly answerReplacedEntry?: boolean;
}

/** Every switch off: the kernel as it runs in production. */
export const KERNEL_UNSAFE_NONE: Required<KernelUnsafeSwitches> = {
  ackBeforePersist: false,
  applyUncommitted: false,
  answerReplacedEntry: false,
};

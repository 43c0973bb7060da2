/**
 * Why startNode() refused to start. The stable `code` is for programs; the one-line message,
 * naming what is in the way, is for operators (the `kvapp-node` command prints it as is).
 * - LISTEN_FAILED: a port could not be bound (details: listener, host, port, reason).
 * - DATA_DIR_LOCKED: another live process (or this one) runs a node on the data dir (details:
 *   dataDir, pid).
 * - JOIN_FAILED: a node with a new data dir and --join could not be added to the cluster
 *   (details: endpoints, reason).
 * - RESTORE_REFUSED: --restore with a data dir that is not empty, or a snapshot file that does
 *   not check out (details: dataDir, file, reason); nothing was written.
 * Whatever startNode() had opened is closed again before it rejects.
 */
export type StartErrorCode = 'LISTEN_FAILED' | 'DATA_DIR_LOCKED' | 'JOIN_FAILED' | 'RESTORE_REFUSED';

export class StartError extends Error {
  constructor(
    readonly code: StartErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'StartError';
  }
}

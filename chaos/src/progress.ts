import type { RunProgress } from '@kvapp/harness';

/**
 * Progress of the current run. On a terminal one line is rewritten in place; elsewhere (CI logs)
 * a plain line is printed when the phase or the nemesis changes, and at most every `plainEveryS`.
 */
export class ProgressLine {
  private lastKey = '';
  private lastPlainS = -Infinity;
  private dirty = false;
  /** Characters the rewritten line may use: one less than the width, so it never wraps. */
  private readonly lineMax: number;
  static readonly plainEveryS = 10;
  /** Assumed when the terminal does not say (undefined) or says nothing useful (0). */
  static readonly columnsDefault = 120;

  constructor(
    private readonly write: (s: string) => void,
    private readonly tty: boolean,
    columns?: number,
  ) {
    const width = columns !== undefined && Number.isInteger(columns) && columns > 0 ? columns : ProgressLine.columnsDefault;
    this.lineMax = width - 1;
  }

  update(label: string, p: RunProgress): void {
    const text = `${label} · ${p.phase} · ${p.elapsedS.toFixed(1)} s · ${p.ops} ops (${p.ok} ok)${p.nemesis ? ` · ${p.nemesis}` : ''}`;
    if (this.tty) {
      this.write(`\r${text.slice(0, this.lineMax)}\x1b[K`);
      this.dirty = true;
      return;
    }
    const key = `${p.phase}|${p.nemesis ?? ''}`;
    if (key === this.lastKey && p.elapsedS - this.lastPlainS < ProgressLine.plainEveryS) return;
    this.lastKey = key;
    this.lastPlainS = p.elapsedS;
    this.write(`${text}\n`);
  }

  /** Ends the rewritten line so the next output starts clean. */
  clear(): void {
    if (this.tty && this.dirty) this.write('\r\x1b[K');
    this.dirty = false;
    this.lastKey = '';
    this.lastPlainS = -Infinity;
  }
}

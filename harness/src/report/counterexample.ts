import { checkHistory, renderReport, type CheckResult, type History } from '@kvapp/checker';
import { esc } from './svg.js';

/** Failing keys drawn with their counterexample; each is a full step-through. */
export const counterexampleKeysMax = 3;
/** The checker already found these keys wrong once; re-finding the witness is bounded anyway. */
const recheckMsDefault = 30_000;

export interface Counterexample {
  /** The checker's own report for the failing keys, to embed as an iframe's srcdoc. */
  readonly html: string | null;
  readonly keys: readonly string[];
  /** Blocked operation ids (to mark on the timeline). */
  readonly blocked: ReadonlySet<number>;
  readonly note: string;
}

/**
 * Re-runs the checker on the failing keys only (results.json has the keys, not the witnesses) and
 * renders the checker's counterexample view for them. Without results.json the whole history is
 * checked. Keys the checker now finds valid or unknown are reported in the note, not drawn.
 */
export async function counterexample(
  history: History,
  failedKeys: readonly string[] | null,
  recheckMs = recheckMsDefault,
): Promise<Counterexample> {
  const none = (note: string): Counterexample => ({ html: null, keys: [], blocked: new Set(), note });
  if (failedKeys !== null && failedKeys.length === 0) return none('');
  const wanted = failedKeys === null ? null : new Set(failedKeys.slice(0, counterexampleKeysMax));
  const operations = wanted === null ? history.operations : history.operations.filter((op) => wanted.has(op.key));
  let result: CheckResult;
  try {
    result = await checkHistory({ events: history.events, operations }, { timeoutMs: recheckMs, threads: 1 });
  } catch (err) {
    return none(`The checker could not re-run on the failing keys: ${(err as Error).message}`);
  }
  const witnesses = result.witnesses.slice(0, counterexampleKeysMax);
  if (witnesses.length === 0) {
    return none(
      wanted === null ? '' : `The checker, re-run on ${[...wanted].join(', ')}, found no counterexample (${String(result.valid)}).`,
    );
  }
  const shownKeys = new Set(witnesses.map((w) => w.key));
  const sub: History = { events: history.events, operations: operations.filter((op) => shownKeys.has(op.key)) };
  const shown: CheckResult = { ...result, witnesses, failedKeys: witnesses.map((w) => w.key) };
  const keys = witnesses.map((w) => w.key);
  const html = renderReport(sub, shown, `failing key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`);
  const blocked = new Set(witnesses.flatMap((w) => (w.blocked === null ? [] : [w.blocked])));

  const total = failedKeys?.length ?? result.failedKeys.length;
  const note = total > keys.length ? `Showing ${keys.length} of ${total} failing keys.` : '';

  return { html, keys, blocked, note };
}

/** The checker's page as an iframe: its own styles and script stay isolated from ours. */
export function counterexampleFrame(c: Counterexample): string {
  if (c.html === null) return '';
  return `<iframe class="counterexample" title="counterexample" srcdoc="${esc(c.html)}"></iframe>`;
}

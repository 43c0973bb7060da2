import type { Random } from './partitions.js';

/** One of `items`, drawn with the run's PRNG. */
export function pick<T>(items: readonly T[], random: Random): T {
  return items[Math.floor(random() * items.length)]!;
}

/** Nodes that may be taken down together while a majority stays: 1 of 3, 1–2 of 5 (sorted). */
export function minority(ids: readonly string[], random: Random): string[] {
  const max = Math.max(1, Math.floor((ids.length - 1) / 2));
  const count = 1 + Math.floor(random() * max);
  const order = [...ids];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, count).sort();
}

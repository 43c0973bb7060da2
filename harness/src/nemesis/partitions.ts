import assert from 'node:assert/strict';
import { seededRng } from '@kvapp/core';

/**
 * Partition shapes as sets of directed node→node links to cut (blackhole). Pure and seeded: the
 * same nodes and the same random source give the same cut. A link "a->b" is the connection a
 * dials to b (see layout.ts), so cutting a→b alone is a one-way partition. Client links are never
 * cut here: clients keep reaching every node, as in Jepsen.
 */

export interface DirectedLink {
  readonly from: string;
  readonly to: string;
}

/** Uniform in [0, 1). */
export type Random = () => number;

/** The run's stream from kvapp's one seeded generator (@kvapp/core's seededRng): a seed reproduces a sequence. */
export function seededRandom(seed: number): Random {
  const rng = seededRng(seed);
  return () => rng.next();
}

export type Partition =
  | { readonly kind: 'halves'; readonly groups: readonly [readonly string[], readonly string[]]; readonly cut: readonly DirectedLink[] }
  | { readonly kind: 'isolate'; readonly node: string; readonly cut: readonly DirectedLink[] }
  | {
      readonly kind: 'majorities-ring';
      readonly ring: readonly string[];
      /** For each node: the nodes it still hears from, itself included. */
      readonly views: Readonly<Record<string, readonly string[]>>;
      readonly cut: readonly DirectedLink[];
    }
  | {
      readonly kind: 'bridge';
      readonly bridge: string;
      readonly sides: readonly [readonly string[], readonly string[]];
      readonly cut: readonly DirectedLink[];
    }
  | { readonly kind: 'one-way'; readonly from: string; readonly to: string; readonly cut: readonly DirectedLink[] };

export type PartitionKind = Partition['kind'];

export function linkKey(l: DirectedLink): string {
  return `${l.from}->${l.to}`;
}

/** The proxy names for a cut (the same "a->b" names as ProxySet / layout.ts). */
export function cutLinkNames(cut: readonly DirectedLink[]): string[] {
  return cut.map(linkKey);
}

function checkNodes(nodes: readonly string[], min: number, what: string): void {
  assert.ok(nodes.length >= min, `${what} needs at least ${min} nodes, got ${nodes.length}`);
  assert.equal(new Set(nodes).size, nodes.length, 'node ids must be unique');
}

function shuffled<T>(items: readonly T[], rand: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Sorted and without duplicates, so equal cuts compare equal. */
function normalize(cut: Iterable<DirectedLink>): DirectedLink[] {
  const byKey = new Map<string, DirectedLink>();
  for (const l of cut) {
    assert.notEqual(l.from, l.to, 'a node has no link to itself');
    byKey.set(linkKey(l), { from: l.from, to: l.to });
  }
  return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
}

/** Every link between the two groups, both directions. */
export function linksBetween(a: readonly string[], b: readonly string[]): DirectedLink[] {
  const out: DirectedLink[] = [];
  for (const x of a) {
    for (const y of b) {
      if (x === y) continue;
      out.push({ from: x, to: y }, { from: y, to: x });
    }
  }
  return normalize(out);
}

/** Random halves: the second group is the larger (a majority when n is odd). */
export function randomHalves(nodes: readonly string[], rand: Random): Partition {
  checkNodes(nodes, 2, 'random halves');
  const order = shuffled(nodes, rand);
  const small = order.slice(0, Math.floor(nodes.length / 2)).sort();
  const large = order.slice(Math.floor(nodes.length / 2)).sort();
  return { kind: 'halves', groups: [small, large], cut: linksBetween(small, large) };
}

/** Cut one node (e.g. the leader) off from all others, both directions. */
export function isolateNode(nodes: readonly string[], node: string): Partition {
  checkNodes(nodes, 2, 'isolate');
  assert.ok(nodes.includes(node), `${node} is not one of ${nodes.join(',')}`);
  return {
    kind: 'isolate',
    node,
    cut: linksBetween(
      [node],
      nodes.filter((n) => n !== node),
    ),
  };
}

/**
 * Majorities ring (Jepsen): every node still hears from a majority (itself included) but no two
 * nodes hear from the same majority. Nodes sit on a shuffled ring and each hears from the window
 * of ring neighbours around it. When the majority size is odd the window is centred and the cut is
 * symmetric; when it is even (n = 3, 6, 7, ...) the window leans one way and some cuts are one-way,
 * as in Jepsen's version.
 */
export function majoritiesRing(nodes: readonly string[], rand: Random): Partition {
  checkNodes(nodes, 3, 'majorities ring');
  const n = nodes.length;
  const majority = Math.floor(n / 2) + 1;
  const ring = shuffled(nodes, rand);
  const before = majority % 2 === 1 ? (majority - 1) / 2 : majority / 2 - 1;
  const after = majority - 1 - before;
  const views: Record<string, string[]> = {};
  const cut: DirectedLink[] = [];
  ring.forEach((node, i) => {
    const view = new Set<string>();
    for (let d = -before; d <= after; d++) view.add(ring[(((i + d) % n) + n) % n]!);
    views[node] = [...view].sort();
    for (const other of nodes) if (!view.has(other)) cut.push({ from: other, to: node });
  });
  return { kind: 'majorities-ring', ring, views, cut: normalize(cut) };
}

/**
 * Bridge (Jepsen): two sides that cannot talk to each other and one node that talks to both. With
 * an odd n, each side plus the bridge is exactly a majority.
 */
export function bridge(nodes: readonly string[], rand: Random): Partition {
  checkNodes(nodes, 3, 'bridge');
  const order = shuffled(nodes, rand);
  const [bridgeNode, ...rest] = order as [string, ...string[]];
  const half = Math.floor(rest.length / 2);
  const a = rest.slice(0, half).sort();
  const b = rest.slice(half).sort();
  return { kind: 'bridge', bridge: bridgeNode, sides: [a, b], cut: linksBetween(a, b) };
}

/** Cut from→to only; to→from keeps working. Random pair unless given. */
export function oneWay(nodes: readonly string[], rand: Random, pick: { from?: string; to?: string } = {}): Partition {
  checkNodes(nodes, 2, 'one-way');
  const from =
    pick.from ??
    shuffled(
      nodes.filter((n) => n !== pick.to),
      rand,
    )[0]!;
  const to =
    pick.to ??
    shuffled(
      nodes.filter((n) => n !== from),
      rand,
    )[0]!;
  assert.ok(nodes.includes(from) && nodes.includes(to), 'one-way endpoints must be cluster nodes');
  assert.notEqual(from, to, 'one-way needs two different nodes');
  return { kind: 'one-way', from, to, cut: [{ from, to }] };
}

/** One partition of a random kind. `leader`, when known, is the node "isolate" cuts off. */
export function randomPartition(nodes: readonly string[], rand: Random, options: { leader?: string } = {}): Partition {
  const kinds: PartitionKind[] =
    nodes.length >= 3 ? ['halves', 'isolate', 'majorities-ring', 'bridge', 'one-way'] : ['halves', 'isolate', 'one-way'];
  const kind = kinds[Math.floor(rand() * kinds.length)]!;
  switch (kind) {
    case 'halves':
      return randomHalves(nodes, rand);
    case 'isolate':
      return isolateNode(nodes, options.leader ?? shuffled(nodes, rand)[0]!);
    case 'majorities-ring':
      return majoritiesRing(nodes, rand);
    case 'bridge':
      return bridge(nodes, rand);
    case 'one-way':
      return oneWay(nodes, rand);
  }
}

/** For each node, the nodes it hears from (itself included) once `cut` is applied. */
export function hearsFrom(nodes: readonly string[], cut: readonly DirectedLink[]): Map<string, Set<string>> {
  const cutKeys = new Set(cut.map(linkKey));
  const out = new Map<string, Set<string>>();
  for (const to of nodes) {
    out.set(to, new Set(nodes.filter((from) => from === to || !cutKeys.has(`${from}->${to}`))));
  }
  return out;
}

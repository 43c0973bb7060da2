import t from 'tap';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import {
  bridge,
  cutLinkNames,
  hearsFrom,
  isolateNode,
  linkKey,
  linksBetween,
  majoritiesRing,
  oneWay,
  randomHalves,
  randomPartition,
  seededRandom,
} from '../../src/nemesis/partitions.js';
import type { DirectedLink, Partition } from '../../src/nemesis/partitions.js';

const seed = Number(process.env['FC_SEED'] ?? Date.now() % 2 ** 31);
t.comment(`fast-check seed ${seed} (rerun with FC_SEED=${seed})`);
const runs = { seed, numRuns: 200 };

const nodesOf = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${i + 1}`);
/** A cluster size and a seed for the generator under test. */
const cluster = (min: number, max = 9) => fc.tuple(fc.integer({ min, max }), fc.integer());

const keys = (cut: readonly DirectedLink[]): Set<string> => new Set(cut.map(linkKey));
const cutHas = (cut: readonly DirectedLink[], from: string, to: string): boolean => keys(cut).has(`${from}->${to}`);
const majority = (n: number): number => Math.floor(n / 2) + 1;

function assertValidCut(nodes: readonly string[], p: Partition): void {
  const k = cutLinkNames(p.cut);
  assert.equal(new Set(k).size, k.length, 'no duplicate links');
  assert.deepEqual(k, [...k].sort(), 'cut is sorted');
  for (const l of p.cut) {
    assert.ok(nodes.includes(l.from) && nodes.includes(l.to), 'links join cluster nodes');
    assert.notEqual(l.from, l.to);
  }
}

t.test('seededRandom is reproducible and in [0, 1)', async (t) => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const xs = Array.from({ length: 1000 }, () => a());
  t.same(
    xs,
    Array.from({ length: 1000 }, () => b()),
  );
  t.ok(xs.every((x) => x >= 0 && x < 1));
  t.ok(new Set(xs).size > 990, 'values spread');
  t.not(seededRandom(43)(), seededRandom(42)());
});

t.test('linksBetween and cutLinkNames', async (t) => {
  t.same(cutLinkNames(linksBetween(['a'], ['b', 'c'])), ['a->b', 'a->c', 'b->a', 'c->a']);
});

t.test('random halves: no link between the halves, every link within them', async (t) => {
  const property = fc.property(cluster(2), ([n, s]) => {
    const nodes = nodesOf(n);
    const p = randomHalves(nodes, seededRandom(s));
    assert.equal(p.kind, 'halves');
    if (p.kind !== 'halves') return;
    assertValidCut(nodes, p);
    const [a, b] = p.groups;
    assert.deepEqual([...a, ...b].sort(), [...nodes].sort(), 'the halves split the cluster');
    assert.ok(b.length - a.length >= 0 && b.length - a.length <= 1, 'sizes differ by at most one');
    const side = (x: string): number => (a.includes(x) ? 0 : 1);
    for (const x of nodes) {
      for (const y of nodes) {
        if (x !== y) assert.equal(cutHas(p.cut, x, y), side(x) !== side(y), `${x}->${y}`);
      }
    }
    assert.deepEqual(randomHalves(nodes, seededRandom(s)), p, 'same seed, same partition');
  });
  t.doesNotThrow(() => fc.assert(property, runs));
});

t.test('isolate: the node hears from nobody and nobody hears from it; the rest are whole', async (t) => {
  const property = fc.property(cluster(2), ([n, s]) => {
    const nodes = nodesOf(n);
    const leader = nodes[Math.abs(s) % n]!;
    const p = isolateNode(nodes, leader);
    assertValidCut(nodes, p);
    const hears = hearsFrom(nodes, p.cut);
    assert.deepEqual([...hears.get(leader)!], [leader]);
    for (const x of nodes) {
      if (x === leader) continue;
      assert.ok(!hears.get(x)!.has(leader));
      assert.equal(hears.get(x)!.size, n - 1, `${x} hears all others`);
    }
  });
  t.doesNotThrow(() => fc.assert(property, runs));
  t.throws(() => isolateNode(['n1', 'n2'], 'n9'));
});

t.test('majorities ring: every node hears a majority, no two hear the same one, nobody hears all', async (t) => {
  const property = fc.property(cluster(3), ([n, s]) => {
    const nodes = nodesOf(n);
    const p = majoritiesRing(nodes, seededRandom(s));
    if (p.kind !== 'majorities-ring') assert.fail(p.kind);
    assertValidCut(nodes, p);
    const hears = hearsFrom(nodes, p.cut);
    const seen = new Set<string>();
    for (const x of nodes) {
      const view = [...hears.get(x)!].sort();
      assert.equal(view.length, majority(n), `${x} hears exactly a majority`);
      assert.ok(view.includes(x));
      assert.deepEqual(view, [...p.views[x]!], 'reported view matches the cut');
      const key = view.join(',');
      assert.ok(!seen.has(key), `two nodes hear the same majority ${key}`);
      seen.add(key);
    }
    if (majority(n) % 2 === 1) {
      for (const l of p.cut) assert.ok(cutHas(p.cut, l.to, l.from), `odd window: ${linkKey(l)} is cut both ways`);
    }
  });
  t.doesNotThrow(() => fc.assert(property, runs));
  t.throws(() => majoritiesRing(['n1', 'n2'], seededRandom(1)), /at least 3/);
});

t.test('bridge: the bridge node sees everyone, the sides see nothing of each other', async (t) => {
  const property = fc.property(cluster(3), ([n, s]) => {
    const nodes = nodesOf(n);
    const p = bridge(nodes, seededRandom(s));
    if (p.kind !== 'bridge') assert.fail(p.kind);
    assertValidCut(nodes, p);
    const [a, b] = p.sides;
    assert.deepEqual([p.bridge, ...a, ...b].sort(), [...nodes].sort());
    assert.ok(a.length >= 1 && b.length >= 1, 'two non-empty sides');
    const hears = hearsFrom(nodes, p.cut);
    assert.equal(hears.get(p.bridge)!.size, n, 'the bridge hears everyone');
    for (const x of nodes) assert.ok(hears.get(x)!.has(p.bridge), `${x} hears the bridge`);
    for (const x of a) for (const y of b) assert.ok(cutHas(p.cut, x, y) && cutHas(p.cut, y, x));
    for (const side of [a, b]) for (const x of side) for (const y of side) assert.ok(!cutHas(p.cut, x, y));
    if (n % 2 === 1) for (const side of [a, b]) assert.equal(side.length + 1, majority(n), 'side + bridge is a majority');
  });
  t.doesNotThrow(() => fc.assert(property, runs));
});

t.test('one-way: exactly A->B is cut, B->A still works', async (t) => {
  const property = fc.property(cluster(2), ([n, s]) => {
    const nodes = nodesOf(n);
    const p = oneWay(nodes, seededRandom(s));
    if (p.kind !== 'one-way') assert.fail(p.kind);
    assertValidCut(nodes, p);
    assert.deepEqual(cutLinkNames(p.cut), [`${p.from}->${p.to}`]);
    assert.ok(!cutHas(p.cut, p.to, p.from));
  });
  t.doesNotThrow(() => fc.assert(property, runs));
  t.same(cutLinkNames(oneWay(['a', 'b', 'c'], seededRandom(1), { from: 'c', to: 'a' }).cut), ['c->a']);
  t.equal(oneWay(['a', 'b', 'c'], seededRandom(1), { to: 'b' }).kind === 'one-way', true);
  t.throws(() => oneWay(['a', 'b'], seededRandom(1), { from: 'a', to: 'a' }));
});

t.test('randomPartition: every kind appears, all valid, isolate takes the leader', async (t) => {
  const kinds = new Set<string>();
  const property = fc.property(cluster(2), ([n, s]) => {
    const nodes = nodesOf(n);
    const p = randomPartition(nodes, seededRandom(s), { leader: 'n1' });
    kinds.add(p.kind);
    assertValidCut(nodes, p);
    assert.ok(p.cut.length > 0, 'a partition cuts something');
    if (p.kind === 'isolate') assert.equal(p.node, 'n1');
    if (n < 3) assert.ok(p.kind !== 'bridge' && p.kind !== 'majorities-ring');
  });
  t.doesNotThrow(() => fc.assert(property, { ...runs, numRuns: 300 }));
  t.same([...kinds].sort(), ['bridge', 'halves', 'isolate', 'majorities-ring', 'one-way']);
});

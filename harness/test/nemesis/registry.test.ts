import t from 'tap';
import { readFileSync } from 'node:fs';
import { bandPalette } from '../../src/nemesis/band-colours.js';
import { isNemesisKind, mixKinds, nemeses, nemesisKinds, startFault } from '../../src/nemesis/registry.js';
import type { FaultContext } from '../../src/nemesis/module.js';
import { nemesisBand } from '../../src/report/nemesis-band.js';

const kebab = /^[a-z0-9]+(-[a-z0-9]+)*$/;

t.test('the registry is the one list of nemeses', async (t) => {
  t.same(nemesisKinds, Object.keys(nemeses), 'nemesisKinds are its keys, in its order');
  for (const kind of nemesisKinds) {
    const m = nemeses[kind];
    t.match(kind, kebab, `${kind}: a kebab-case name (it names the scenario and the nemesis.jsonl periods)`);
    t.ok(isNemesisKind(kind));
    t.ok(m.description.length > 5, `${kind}: described for --list`);
    t.ok(Number.isInteger(m.nodesMin) && m.nodesMin >= 1, `${kind}: nodesMin ${m.nodesMin}`);
    t.ok(m.band.label.length > 0 && m.band.colour.startsWith('rgba('), `${kind}: a band`);
    if (m.suiteNodes !== null) {
      t.ok(m.start !== null, `${kind}: the suite runs only nemeses that start faults`);
      t.ok(m.suiteNodes.ci >= m.nodesMin && m.suiteNodes.nightly >= m.nodesMin, `${kind}: the suite runs it on nodes it supports`);
    }
  }
  t.notOk(isNemesisKind('toString'), 'inherited names are not nemeses');
  t.notOk(isNemesisKind('partition'), 'nor prefixes');
});

t.test('mix draws every module that says inMix, never itself or none', async (t) => {
  t.same(
    mixKinds,
    nemesisKinds.filter((k) => nemeses[k].inMix),
  );
  t.notOk(mixKinds.includes('mix') || mixKinds.includes('none'));
  t.ok(mixKinds.length >= 9, `${mixKinds.length} kinds in the mix`);
  t.ok(
    mixKinds.every((k) => nemeses[k].start !== null),
    'each of them starts a fault',
  );
  t.equal(nemeses.mix.nodesMin, Math.max(...mixKinds.map((k) => nemeses[k].nodesMin)), 'mix needs the nodes of its most demanding member');
  t.equal(nemeses.mix.nodesMin, 3, 'rings and bridges need 3');
});

t.test('none starts no fault, and says so when asked to', async (t) => {
  t.equal(nemeses.none.start, null);
  t.equal(nemeses.none.suiteNodes, null, 'the suite has no scenario without faults');
  // Refused before the context is touched: an empty one is enough.
  await t.rejects(startFault('none', {} as FaultContext), /nemesis none starts no faults/);
});

t.test("the report draws a registered nemesis with its module's band, others on a stable colour", async (t) => {
  for (const kind of nemesisKinds) t.same(nemesisBand(kind), nemeses[kind].band, kind);
  t.not(nemesisBand('kill').colour, nemesisBand('partition-halves').colour, 'families differ');
  t.equal(nemesisBand('partition-bridge').colour, nemesisBand('partition-halves').colour, 'one family, one colour');
  const other = nemesisBand('some-old-nemesis');
  t.equal(other.label, 'some-old-nemesis', 'an unknown name is its own label');
  t.ok(bandPalette.includes(other.colour), 'on a colour of the palette');
  t.same(nemesisBand('some-old-nemesis'), other, 'the same every time');
});

/** The backticked names at the head of each bullet of a README section. */
function bulletHeads(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(heading);
  const end = markdown.indexOf('\n#', start + heading.length);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  return section
    .split('\n')
    .filter((l) => l.startsWith('- '))
    .flatMap((l) => [...l.slice(0, l.indexOf(':')).matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
}

t.test('the docs follow the registry instead of copying it', async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  t.same(
    bulletHeads(readme, '### Nemeses').sort(),
    [...nemesisKinds].sort(),
    'harness/README.md describes each nemesis once, and only those',
  );
  const contract = readFileSync(new URL('../../../docs/chaos-contract.md', import.meta.url), 'utf8');
  t.match(contract, /export type NemesisKind = keyof typeof nemeses;/, 'the contract points at the registry');
  // A hand-copied list names several kinds on a line; 'none' alone also names quiet time.
  const listing = contract.split('\n').filter((line) => nemesisKinds.filter((k) => line.includes(`'${k}'`)).length > 1);
  t.same(listing, [], 'the contract keeps no copy of the kinds');
});

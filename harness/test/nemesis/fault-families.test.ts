import t from 'tap';
import { faultFamily, periodKills } from '../../src/nemesis/fault-families.js';
import { nemesisKinds } from '../../src/nemesis/registry.js';

t.test('families: partitions by their band, the rest by name', async (t) => {
  const partitions = nemesisKinds.filter((k) => faultFamily(k) === 'partition');
  t.same(
    partitions,
    nemesisKinds.filter((k) => k.startsWith('partition-')),
    'every registered partition shape, found by its band colour, and nothing else (mix is no fault of its own)',
  );
  t.ok(partitions.length >= 5, `${partitions.length} partition kinds`);
  t.equal(faultFamily('kill'), 'kill');
  t.equal(faultFamily('pause'), 'pause');
  t.equal(faultFamily('power-cut'), 'power-cut');
  t.equal(faultFamily('mix'), null);
  t.equal(faultFamily('delay'), null);
  t.equal(faultFamily('partition-gone-shape'), 'partition', 'an older run names a kind the registry no longer has');
  t.equal(faultFamily('toString'), null, 'no inherited names');
});

t.test('kills a period stands for', async (t) => {
  t.same(periodKills('kill', { nodes: ['1', '2'] }), { kills: 1, crashes: 0 }, 'a kill period is one round, however many victims');
  t.same(periodKills('kill', null), { kills: 1, crashes: 0 });
  t.same(periodKills('failpoint-crash', { crashes: 4 }), { kills: 1, crashes: 4 }, 'the arming kill and each crash');
  t.same(periodKills('failpoint-crash', { healError: 'x' }), { kills: 1, crashes: 0 });
  t.same(
    periodKills('membership', { actions: ['remove 2', 'kill 3 (leader) 5 ms later', 'restart 3', 'killed nothing'] }),
    { kills: 1, crashes: 0 },
    'a kill among the actions of a step',
  );
  t.same(periodKills('membership', { actions: 'kill 3' }), { kills: 0, crashes: 0 }, 'actions must be a list');
  t.same(periodKills('partition-halves', { crashes: 9 }), { kills: 0, crashes: 0 }, 'other kinds kill nobody');
  t.same(periodKills('power-cut', {}), { kills: 0, crashes: 0 }, 'a power cut is its own round, not a kill -9 one');
});

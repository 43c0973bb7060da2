import t from 'tap';
import { ProxySet, linkName } from '../../src/proxy/proxy-set.js';
import { connectClient, startServer, waitFor } from '../support/net.js';

t.test('linkName', async (t) => {
  t.equal(linkName('n1', 'n2'), 'n1->n2');
  t.equal(linkName('client', 'n3'), 'client->n3');
});

t.test('named links, faults, heal, counters, close', async (t) => {
  const a = await startServer({ echo: true });
  const b = await startServer({ echo: true });
  const set = new ProxySet();
  t.teardown(async () => {
    await set.close();
    await a.close();
    await b.close();
  });
  const toA = await set.add('n2->n1', a.port);
  await set.add('n1->n2', b.port);
  await set.add('client->n1', a.port);
  t.same(set.names().sort(), ['client->n1', 'n1->n2', 'n2->n1']);
  t.equal(set.get('n2->n1'), toA);
  t.ok(set.has('n1->n2'));
  t.notOk(set.has('n3->n1'));
  await t.rejects(set.add('n1->n2', b.port), 'duplicate names are refused');
  t.throws(() => set.get('nope'));
  t.throws(() => set.setModes(['n1->n2', 'typo'], { kind: 'blackhole' }));
  t.same(set.faulted(), [], 'a bad name changes nothing');

  const c = await connectClient(set.get('n1->n2').port);
  set.setModes(['n1->n2', 'n2->n1'], { kind: 'blackhole' });
  set.setMode('client->n1', { kind: 'delay', ms: 10, jitterMs: 0 });
  t.same(set.faulted().sort(), ['client->n1', 'n1->n2', 'n2->n1']);
  c.socket.write('ping');
  await waitFor('held', () => set.counters()['n1->n2']!.bytesBuffered === 4);
  t.equal(c.received().length, 0);
  set.heal();
  t.same(set.faulted(), []);
  await waitFor('echo after heal', () => c.received().toString() === 'ping');
  t.equal(set.counters()['n1->n2']!.bytesForwardedToTarget, 4);
  t.equal(set.counters()['n2->n1']!.connectionsAccepted, 0);

  await set.close();
  await waitFor('client closed by set.close()', () => c.closed());
  await t.rejects(set.add('late', a.port), 'closed sets accept no links');
});

import t from 'tap';
import net from 'node:net';
import { defaultNodeIds, requiredLinks } from '../../src/cluster/layout.js';
import { reserveClusterPorts, reserveFreePorts } from '../../src/cluster/ports.js';

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

t.test('reserveFreePorts: distinct, free again after reservation, never repeated', async (t) => {
  const a = await reserveFreePorts(20);
  const b = await reserveFreePorts(20);
  t.equal(a.length, 20);
  t.equal(new Set([...a, ...b]).size, 40, 'no port handed out twice by this process');
  for (const p of a) t.ok(p > 0 && p < 65536);
  const listenable = await Promise.all(a.slice(0, 5).map(canListen));
  t.same(listenable, [true, true, true, true, true], 'the listeners were closed');
  t.same(await reserveFreePorts(0), []);
});

t.test('reserveClusterPorts: one port per node role and per link', async (t) => {
  const ids = defaultNodeIds(5);
  const { nodePorts, proxyPorts } = await reserveClusterPorts(ids);
  t.same(Object.keys(nodePorts), ids);
  t.same(
    Object.keys(proxyPorts).sort(),
    requiredLinks(ids)
      .map((l) => l.name)
      .sort(),
  );
  const all = [...Object.values(nodePorts).flatMap((p) => [p.peer, p.client, p.http]), ...Object.values(proxyPorts)];
  t.equal(all.length, 5 * 3 + 5 * 4 + 5);
  t.equal(new Set(all).size, all.length);
});

import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The client README's examples talk to the cluster the node-server README starts by hand, through
 * its client ports. (They once named its peer ports, which fails after 3 s with "binary frame
 * from node".) The ports are read from the node-server README's variables, so either README may
 * change its ports as long as the two agree.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** The `NAME=host:port` assignments of one kind of port (P, C or H) in the by-hand block. */
function portsOf(readme: string, prefix: 'P' | 'C' | 'H'): Set<string> {
  const found = [...readme.matchAll(new RegExp(`\\b${prefix}[1-9]=(\\d+\\.\\d+\\.\\d+\\.\\d+:\\d+)`, 'g'))].map((m) => m[1]!);
  return new Set(found);
}

t.test("the client README's endpoints are the client ports of the node-server README's cluster", (t) => {
  const server = read('packages/node-server/README.md');
  const client = read('packages/client/README.md');
  const clientPorts = portsOf(server, 'C');
  const otherPorts = new Set([...portsOf(server, 'P'), ...portsOf(server, 'H')]);
  t.equal(clientPorts.size, 3, `the node-server README names three client ports: ${[...clientPorts].join(' ')}`);
  t.equal(otherPorts.size, 6, 'and three peer and three HTTP ports');
  const named = [...client.matchAll(/\b\d+\.\d+\.\d+\.\d+:\d+\b/g)].map((m) => m[0]);
  t.ok(named.length > 0, 'the client README names endpoints');
  for (const endpoint of new Set(named)) {
    t.ok(clientPorts.has(endpoint), `${endpoint} is a client port (${[...clientPorts].join(', ')})`);
    t.notOk(otherPorts.has(endpoint), `${endpoint} is not a peer or HTTP port`);
  }
  t.end();
});

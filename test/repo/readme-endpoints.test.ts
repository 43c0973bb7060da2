import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The client README's examples talk to the cluster the node-server README starts by hand, through
 * its client ports. (They once named its peer ports, which fails after 3 s with "binary frame
 * from node".) The ports are read from the node-server README's variables, so either README may
 * change its ports as long as the two agree. One example adds a member: its `peer:` address is a
 * peer port of that cluster and its `client:` address a client port.
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
  const nodes = clientPorts.size;
  t.ok(nodes >= 3, `the node-server README names a client port per node: ${[...clientPorts].join(' ')}`);
  t.equal(otherPorts.size, 2 * nodes, 'and a peer and an HTTP port per node');
  // Peer addresses appear where a member's are shown: addMember's `peer:` and the PEER column of
  // the `kvapp member list` example. Those must be peer ports; every other address a client port.
  const memberRow = /^# \d+ +(?:voter|learner|leaving) +\*? +(\S+) +/gm;
  const peerAddresses = [
    ...[...client.matchAll(/\bpeer: '(\d+\.\d+\.\d+\.\d+:\d+)'/g)].map((m) => m[1]!),
    ...[...client.matchAll(memberRow)].map((m) => m[1]!),
  ];
  t.ok(peerAddresses.length > 0, 'the client README shows members with their peer addresses');
  for (const peer of peerAddresses) t.ok(portsOf(server, 'P').has(peer), `the member peer address ${peer} is a peer port`);
  const withoutPeers = client.replace(/\bpeer: '[^']*'/g, '').replace(memberRow, '');
  const named = [...withoutPeers.matchAll(/\b\d+\.\d+\.\d+\.\d+:\d+\b/g)].map((m) => m[0]);
  t.ok(named.length > 0, 'the client README names endpoints');
  for (const endpoint of new Set(named)) {
    t.ok(clientPorts.has(endpoint), `${endpoint} is a client port (${[...clientPorts].join(', ')})`);
    t.notOk(otherPorts.has(endpoint), `${endpoint} is not a peer or HTTP port`);
  }
  t.end();
});

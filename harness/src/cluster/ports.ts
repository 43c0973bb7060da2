import assert from 'node:assert/strict';
import net from 'node:net';
import { requiredLinks } from './layout.js';
import type { NodePorts } from './layout.js';

/**
 * Ports handed out by this harness process. The kernel may give a port again once it is closed;
 * remembering them keeps two reservations of one run (or two clusters of one harness) apart.
 * Other programs can still take a port between its reservation and its use: that race is inherent
 * to "listen on 0, close, pass the number on", and shows up as EADDRINUSE when a node or proxy
 * starts, never as two of our listeners sharing a port.
 */
const handedOut = new Set<number>();

function listenOnce(host: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => resolve(server));
  });
}

/** `count` distinct free ports on `host`, none handed out before by this process. */
export async function reserveFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  assert.ok(Number.isInteger(count) && count >= 0, `count must be a non-negative integer, got ${count}`);
  const servers: net.Server[] = [];
  const ports: number[] = [];
  try {
    // Hold every listener open until all are read, so the kernel cannot hand one port out twice.
    let attempts = 0;
    while (ports.length < count) {
      attempts += 1;
      assert.ok(attempts <= count * 10 + 100, 'could not find enough free ports');
      const server = await listenOnce(host);
      servers.push(server);
      const port = (server.address() as net.AddressInfo).port;
      if (handedOut.has(port)) continue;
      handedOut.add(port);
      ports.push(port);
    }
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
  return ports;
}

export interface ClusterPorts {
  readonly nodePorts: Record<string, NodePorts>;
  readonly proxyPorts: Record<string, number>;
}

/** Ports for every node (peer, client, http) and every proxy of requiredLinks(nodeIds). */
export async function reserveClusterPorts(nodeIds: readonly string[], host = '127.0.0.1'): Promise<ClusterPorts> {
  const links = requiredLinks(nodeIds);
  const ports = await reserveFreePorts(nodeIds.length * 3 + links.length, host);
  let i = 0;
  const nodePorts: Record<string, NodePorts> = {};
  for (const id of nodeIds) nodePorts[id] = { peer: ports[i++]!, client: ports[i++]!, http: ports[i++]! };
  const proxyPorts: Record<string, number> = {};
  for (const l of links) proxyPorts[l.name] = ports[i++]!;
  return { nodePorts, proxyPorts };
}

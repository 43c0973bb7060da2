// A 3-node kvapp cluster of real `kvapp-node` processes on 127.0.0.1 with the default (durable)
// settings: every WAL batch is fdatasynced before it is acknowledged.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KvClient } from '@kvapp/client';
import { freePorts, HOST } from './free-ports.mjs';
import { startServer, stopServers } from './child-processes.mjs';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const LEADER_WAIT_MS = 20_000;

/** The command line of node `id` of a cluster whose nodes listen on `nodes[i].peerPort/clientPort`. */
export function kvappNodeArgs(node, nodes, dataDir) {
  // One flag and its value per line.
  // prettier-ignore
  return [
    '--id', String(node.id),
    '--data-dir', join(dataDir, `n${node.id}`),
    '--peer-listen', `${HOST}:${node.peerPort}`,
    '--client-listen', `${HOST}:${node.clientPort}`,
    '--peers', nodes.filter((p) => p !== node).map((p) => `${p.id}=${HOST}:${p.peerPort}`).join(','),
    '--client-addresses', nodes.map((p) => `${p.id}=${HOST}:${p.clientPort}`).join(','),
    '--cluster-secret', 'kvapp-bench-secret',
    '--log-level', 'warn',
  ];
}

/**
 * Starts the nodes and waits until one is leader. KVAPP_BENCH_NODE_FLAGS adds flags for the
 * nodes' `node` (e.g. "--cpu-prof --cpu-prof-dir=DIR" to profile them under load). `cli` is the
 * kvapp-node to run (another checkout's for --baseline), `name` the system it is reported as.
 */
export async function startKvappCluster(dataDir, cli = CLI, name = 'kvapp') {
  const ports = await freePorts(6);
  const nodes = [1, 2, 3].map((id, i) => ({ id, peerPort: ports[2 * i], clientPort: ports[2 * i + 1] }));
  const nodeFlags = (process.env.KVAPP_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const servers = nodes.map((n) =>
    startServer(`${name} node ${n.id}`, process.execPath, [...nodeFlags, cli, ...kvappNodeArgs(n, nodes, dataDir)]),
  );
  const cluster = {
    name,
    endpoints: nodes.map((n) => `${HOST}:${n.clientPort}`),
    /** kvapp's client finds the leader itself. */
    target: null,
    pids: () => servers.map((s) => s.child?.pid).filter((pid) => pid !== undefined),
    stop: () => stopServers(servers),
  };
  try {
    await waitForLeader(cluster.endpoints);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

async function waitForLeader(endpoints) {
  const client = new KvClient({ endpoints, opDeadlineMs: 2000 });
  const deadline = performance.now() + LEADER_WAIT_MS;
  try {
    while (performance.now() < deadline) {
      const statuses = await client.statusAll();
      if (statuses.some((s) => s.ok && s.status.role === 'leader')) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the kvapp cluster elected no leader within ${LEADER_WAIT_MS / 1000} s`);
  } finally {
    client.close();
  }
}

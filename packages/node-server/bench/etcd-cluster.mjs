// A 3-member etcd cluster on 127.0.0.1 with etcd's default (durable) settings: the WAL is
// fsynced before a proposal is acknowledged. The binary is $ETCD_BIN, else etcd on PATH, else
// Debian's etcd-server installed by ensure-etcd.sh.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findLeader } from './drivers/etcd-http.mjs';
import { freePorts, HOST } from './free-ports.mjs';
import { startServer, stopServers } from './child-processes.mjs';

const ENSURE_ETCD = fileURLToPath(new URL('./ensure-etcd.sh', import.meta.url));
const READY_WAIT_MS = 30_000;

/** The path of an etcd binary, installing Debian's etcd-server first when there is none. */
export async function ensureEtcd() {
  try {
    const { stdout } = await promisify(execFile)('bash', [ENSURE_ETCD], { timeout: 600_000 });
    return stdout.trim();
  } catch (error) {
    throw new Error(`no etcd to compare with: ${(error.stderr || error.message).trim()}`, { cause: error });
  }
}

/** The command line of member `m` of a cluster whose members listen on `members[i].peerPort/clientPort`. */
export function etcdMemberArgs(member, members, dataDir) {
  const initialCluster = members.map((m) => `${m.name}=http://${HOST}:${m.peerPort}`).join(',');
  // One flag and its value per line.
  // prettier-ignore
  return [
    '--name', member.name,
    '--data-dir', join(dataDir, `${member.name}.etcd`),
    '--listen-client-urls', `http://${HOST}:${member.clientPort}`,
    '--advertise-client-urls', `http://${HOST}:${member.clientPort}`,
    '--listen-peer-urls', `http://${HOST}:${member.peerPort}`,
    '--initial-advertise-peer-urls', `http://${HOST}:${member.peerPort}`,
    '--initial-cluster', initialCluster,
    '--initial-cluster-token', 'kvapp-bench',
    '--initial-cluster-state', 'new',
    '--logger', 'zap',
    '--log-level', 'warn',
  ];
}

/** Starts the members and waits until every one is healthy and one is leader. */
export async function startEtcdCluster(etcdBin, dataDir) {
  const ports = await freePorts(6);
  const members = [1, 2, 3].map((i) => ({ name: `m${i}`, peerPort: ports[2 * i - 2], clientPort: ports[2 * i - 1] }));
  const servers = members.map((m) => startServer(`etcd member ${m.name}`, etcdBin, etcdMemberArgs(m, members, dataDir)));
  const endpoints = members.map((m) => `http://${HOST}:${m.clientPort}`);
  const stop = () => stopServers(servers);
  try {
    const target = await waitForLeader(endpoints);
    return { name: 'etcd', endpoints, target, pids: () => servers.map((s) => s.child?.pid).filter((pid) => pid !== undefined), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitForLeader(endpoints) {
  const deadline = performance.now() + READY_WAIT_MS;
  while (performance.now() < deadline) {
    const healthy = await Promise.all(endpoints.map(isHealthy));
    if (healthy.every(Boolean)) {
      const leader = await findLeader(endpoints);
      if (leader !== null) return leader;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the etcd cluster was not healthy with a leader within ${READY_WAIT_MS / 1000} s`);
}

async function isHealthy(endpoint) {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    return (await res.json()).health === 'true';
  } catch {
    return false;
  }
}

import assert from 'node:assert/strict';
import { join } from 'node:path';

/**
 * Where everything of a local cluster listens, and the flags each kvapp-node gets. Pure: ports
 * come in (see ports.ts), a plan comes out.
 *
 * Topology: every node dials each peer itself, so each ordered pair (i, j) is its own link with its
 * own proxy "i->j" (listening on a harness port, forwarding to j's real peer port); node i's
 * `--peers` names, for each peer j, the address of proxy "i->j". Clients reach node j through
 * proxy "client->j", and a node's `--client-addresses` (what it puts in a not_leader redirect)
 * lists those proxy addresses, so a redirected client stays behind the harness's proxies too.
 */

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export function formatHostPort(a: HostPort): string {
  return `${a.host}:${a.port}`;
}

/** The real ports a node listens on. */
export interface NodePorts {
  readonly peer: number;
  readonly client: number;
  readonly http: number;
}

export interface LinkSpec {
  /** "n1->n2" or "client->n3". */
  readonly name: string;
  readonly from: string;
  readonly to: string;
}

export interface LinkPlan extends LinkSpec {
  /** Where the proxy listens. */
  readonly listen: HostPort;
  /** Where it forwards: the target node's peer port, or its client port for a client link. */
  readonly target: HostPort;
}

export interface NodePlan {
  readonly id: string;
  readonly dataDir: string;
  readonly logFile: string;
  readonly peerListen: HostPort;
  readonly clientListen: HostPort;
  readonly httpListen: HostPort;
  /** For each other node: the address of proxy "<this>-><peer>". */
  readonly peers: Readonly<Record<string, HostPort>>;
  /** For every node (this one included): the address of proxy "client-><node>". */
  readonly clientAddresses: Readonly<Record<string, HostPort>>;
  readonly clusterSecretFile: string;
  /** The command line flags, in a fixed order. */
  readonly args: readonly string[];
}

export interface ClusterLayout {
  readonly nodes: readonly NodePlan[];
  readonly links: readonly LinkPlan[];
  /** What a harness client uses to reach each node: the "client-><id>" proxies. */
  readonly clientAddresses: Readonly<Record<string, HostPort>>;
}

export interface LayoutInput {
  readonly nodeIds: readonly string[];
  readonly nodePorts: Readonly<Record<string, NodePorts>>;
  /** By link name, for every link of requiredLinks(nodeIds). */
  readonly proxyPorts: Readonly<Record<string, number>>;
  /** Node i keeps its data in <runDir>/data/<i> and logs to <runDir>/logs/<i>.log. */
  readonly runDir: string;
  readonly clusterSecretFile: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
}

/** The name clients use as the "from" side of their links. */
export const clientSide = 'client';

const idPattern = /^[A-Za-z0-9_.]+$/;

/** "n1".."nN". */
export function defaultNodeIds(count: number): string[] {
  assert.ok(Number.isInteger(count) && count >= 1, `node count must be a positive integer, got ${count}`);
  return Array.from({ length: count }, (_, i) => `n${i + 1}`);
}

function checkIds(nodeIds: readonly string[]): void {
  assert.ok(nodeIds.length >= 1, 'a cluster needs at least one node');
  assert.equal(new Set(nodeIds).size, nodeIds.length, `node ids must be unique: ${nodeIds.join(',')}`);
  for (const id of nodeIds) {
    // ids end up in "a=b,c=d" flag lists and in "a->b" link names
    assert.match(id, idPattern, `node id ${JSON.stringify(id)} must match ${idPattern}`);
    assert.notEqual(id, clientSide, `"${clientSide}" is reserved for client links`);
  }
}

/** Every link a cluster of these nodes needs: each ordered node pair, then client->each node. */
export function requiredLinks(nodeIds: readonly string[]): LinkSpec[] {
  checkIds(nodeIds);
  const links: LinkSpec[] = [];
  for (const from of nodeIds) {
    for (const to of nodeIds) if (from !== to) links.push({ name: `${from}->${to}`, from, to });
  }
  for (const to of nodeIds) links.push({ name: `${clientSide}->${to}`, from: clientSide, to });
  return links;
}

function idList(map: Readonly<Record<string, HostPort>>, ids: readonly string[]): string {
  return ids.map((id) => `${id}=${formatHostPort(map[id]!)}`).join(',');
}

export function clusterLayout(input: LayoutInput): ClusterLayout {
  const host = input.host ?? '127.0.0.1';
  const ids = input.nodeIds;
  const links = requiredLinks(ids);
  const at = (port: number): HostPort => ({ host, port });
  const used = new Map<number, string>();
  const claim = (port: number | undefined, what: string): number => {
    assert.ok(port !== undefined && Number.isInteger(port) && port > 0 && port < 65536, `no valid port for ${what}`);
    const other = used.get(port);
    assert.ok(other === undefined, `port ${port} given to both ${other} and ${what}`);
    used.set(port, what);
    return port;
  };
  for (const id of ids) {
    const p = input.nodePorts[id];
    assert.ok(p !== undefined, `no ports for node ${id}`);
    claim(p.peer, `${id} peer`);
    claim(p.client, `${id} client`);
    claim(p.http, `${id} http`);
  }
  const linkPlans: LinkPlan[] = links.map((l) => {
    const target = input.nodePorts[l.to]!;
    return {
      ...l,
      listen: at(claim(input.proxyPorts[l.name], `proxy ${l.name}`)),
      target: at(l.from === clientSide ? target.client : target.peer),
    };
  });
  const proxy = (name: string): HostPort => linkPlans.find((l) => l.name === name)!.listen;
  const clientAddresses: Record<string, HostPort> = {};
  for (const id of ids) clientAddresses[id] = proxy(`${clientSide}->${id}`);

  const nodes = ids.map((id): NodePlan => {
    const ports = input.nodePorts[id]!;
    const others = ids.filter((j) => j !== id);
    const peers: Record<string, HostPort> = {};
    for (const j of others) peers[j] = proxy(`${id}->${j}`);
    const plan = {
      id,
      dataDir: join(input.runDir, 'data', id),
      logFile: join(input.runDir, 'logs', `${id}.log`),
      peerListen: at(ports.peer),
      clientListen: at(ports.client),
      httpListen: at(ports.http),
      peers,
      clientAddresses,
      clusterSecretFile: input.clusterSecretFile,
    };
    return { ...plan, args: nodeArgs(plan, ids) };
  });
  return { nodes, links: linkPlans, clientAddresses };
}

/** The kvapp-node flags for one node (the node CLI contract). */
export function nodeArgs(node: Omit<NodePlan, 'args' | 'logFile'>, nodeIds: readonly string[]): string[] {
  const args = [
    '--id',
    node.id,
    '--data-dir',
    node.dataDir,
    '--peer-listen',
    formatHostPort(node.peerListen),
    '--client-listen',
    formatHostPort(node.clientListen),
    '--http-listen',
    formatHostPort(node.httpListen),
  ];
  const others = nodeIds.filter((j) => j !== node.id);
  // A single-node cluster has no peers; the flag is left out rather than given an empty value.
  if (others.length > 0) args.push('--peers', idList(node.peers, others));
  args.push('--client-addresses', idList(node.clientAddresses, nodeIds));
  args.push('--cluster-secret-file', node.clusterSecretFile);
  return args;
}

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { clientSide, clusterLayout, formatHostPort, nodeArgs } from '../cluster/layout.js';
import type { ClusterLayout, HostPort, NodePlan } from '../cluster/layout.js';
import { reserveClusterPorts, reserveFreePorts } from '../cluster/ports.js';
import { ProcessSupervisor } from '../cluster/process-supervisor.js';
import type { ManagedProcess } from '../cluster/process-supervisor.js';
import { ProxySet } from '../proxy/proxy-set.js';

/** What a node says on /health (packages/node-server, ops/http-server.ts). */
export interface NodeHealth {
  readonly healthy: boolean;
  readonly role: string;
  readonly term: number;
  /** The leader's node id; 0 when unknown. */
  readonly leader: number;
  readonly commit: number;
  readonly applied: number;
}

export interface KvClusterOptions {
  /** The run folder: data/<id>, logs/<id>.log and the cluster secret go under it. */
  readonly runDir: string;
  readonly nodes: number;
  readonly nodeArgs?: readonly string[];
  readonly nodeEnv?: Readonly<Record<string, string>>;
  /** Environment for one node, after nodeEnv (a nemesis' per-node files: NemesisModule.nodeEnv). */
  readonly nodeEnvFor?: (node: {
    readonly id: string;
    readonly dataDir: string;
    readonly runDir: string;
  }) => Readonly<Record<string, string>>;
  /** Default: packages/node-server/dist/cli.js, resolved through @kvapp/node-server. */
  readonly cliPath?: string;
}

const healthTimeoutMs = 500;
/** How long an added node may take to bind its ports before addNode looks again. */
const addNodeListenMsMax = 10_000;
/** The "from" side of a node's shared inbound peer proxy (peerAddressForOthers). */
const anySide = 'any';
const metricsTimeoutMs = 1000;

/** The kvapp-node entry point: dist/cli.js next to the package's dist/index.js. */
export function nodeCliPath(): string {
  return fileURLToPath(new URL('./cli.js', import.meta.resolve('@kvapp/node-server')));
}

/**
 * N kvapp-node processes on 127.0.0.1 with every link behind a harness proxy (layout.ts). The
 * harness's own view — /health, who leads — goes straight to each node's http port, never through
 * a proxy, so a partition never hides the cluster from the harness.
 *
 * A node may run as one of two programs: its normal command line, or the same with extra
 * environment (failpoints armed). Each is its own ManagedProcess sharing the node's log file; at
 * most one of them is alive.
 */
export class KvCluster {
  /** The nodes the harness keeps running: the initial ones, plus those added, minus those retired. */
  private active: string[];
  /** Nodes added at run time (addNode), by id; retired ones stay, so that their logs can be found. */
  private readonly added = new Map<string, NodePlan>();
  /** Every id ever used, so that an added node never takes a retired node's id. */
  private idMax: number;
  private readonly supervisor = new ProcessSupervisor({ stopDeadlineMs: 3000, stateTimeoutMs: 10_000 });
  private readonly current = new Map<string, ManagedProcess>();
  private variants = 0;
  private closed = false;

  private constructor(
    readonly layout: ClusterLayout,
    readonly proxies: ProxySet,
    private readonly options: KvClusterOptions,
    private readonly cliPath: string,
  ) {
    this.active = layout.nodes.map((n) => n.id);
    this.idMax = Math.max(...this.active.map(Number));
  }

  /** The run folder (data/, logs/, and a nemesis' per-node files under faults/). */
  get runDir(): string {
    return this.options.runDir;
  }

  /** The nodes the harness keeps running now, ascending (a membership nemesis adds and retires nodes). */
  get ids(): readonly string[] {
    return this.active;
  }

  /** Reserves ports, starts every proxy and every node. On failure everything started is closed. */
  static async start(options: KvClusterOptions): Promise<KvCluster> {
    assert.ok(Number.isInteger(options.nodes) && options.nodes >= 1, `nodes must be a positive integer, got ${options.nodes}`);
    // kvapp-node ids are positive integers.
    const ids = Array.from({ length: options.nodes }, (_, i) => String(i + 1));
    const ports = await reserveClusterPorts(ids);
    mkdirSync(options.runDir, { recursive: true });
    const clusterSecretFile = join(options.runDir, 'cluster-secret');
    writeFileSync(clusterSecretFile, randomBytes(24).toString('hex'), { mode: 0o600 });
    const layout = clusterLayout({ nodeIds: ids, ...ports, runDir: options.runDir, clusterSecretFile });
    const proxies = new ProxySet();
    const cluster = new KvCluster(layout, proxies, options, options.cliPath ?? nodeCliPath());
    try {
      for (const link of layout.links) await proxies.add(link.name, link.target.port, { listenPort: link.listen.port });
      for (const node of layout.nodes) {
        mkdirSync(node.dataDir, { recursive: true });
        const p = cluster.supervisor.add(cluster.spec(node, {}, node.id));
        cluster.current.set(node.id, p);
      }
      await Promise.all(ids.map((id) => cluster.process(id).start()));
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  /** The client proxies ("client-><id>"), as 'host:port'. */
  clientEndpoints(): string[] {
    return this.ids.map((id) => this.clientEndpoint(id));
  }

  clientEndpoint(id: string): string {
    return formatHostPort(this.node(id).clientAddresses[id]!);
  }

  node(id: string): NodePlan {
    const n = this.layout.nodes.find((x) => x.id === id) ?? this.added.get(id);
    assert.ok(n !== undefined, `no node ${id}`);
    return n;
  }

  process(id: string): ManagedProcess {
    const p = this.current.get(id);
    assert.ok(p !== undefined, `no node ${id}`);
    return p;
  }

  /** /health of one node, straight to its http port; null when it does not answer. */
  async health(id: string): Promise<NodeHealth | null> {
    const http = this.node(id).httpListen;
    try {
      const response = await fetch(`http://${formatHostPort(http)}/health`, { signal: AbortSignal.timeout(healthTimeoutMs) });
      const body = (await response.json()) as NodeHealth;
      return body;
    } catch {
      return null;
    }
  }

  /** /metrics of one node (Prometheus text), straight to its http port; null when it does not answer. */
  async metricsText(id: string): Promise<string | null> {
    const http = this.node(id).httpListen;
    try {
      const response = await fetch(`http://${formatHostPort(http)}/metrics`, { signal: AbortSignal.timeout(metricsTimeoutMs) });
      return response.ok ? await response.text() : null;
    } catch {
      return null;
    }
  }

  async healthAll(): Promise<Map<string, NodeHealth | null>> {
    const all = await Promise.all(this.ids.map(async (id) => [id, await this.health(id)] as const));
    return new Map(all);
  }

  /** The node that says it leads in the highest term, or null. */
  async leader(): Promise<string | null> {
    let best: { id: string; term: number } | null = null;
    for (const [id, h] of await this.healthAll()) {
      if (h !== null && h.role === 'leader' && (best === null || h.term > best.term)) best = { id, term: h.term };
    }
    return best?.id ?? null;
  }

  /** Every node healthy (knows a leader, applied up to its commit) and all name the same leader. */
  async healthy(): Promise<boolean> {
    const all = [...(await this.healthAll()).values()];
    if (all.some((h) => h === null || !h.healthy)) return false;
    return new Set(all.map((h) => h!.leader)).size === 1;
  }

  /** kill -9. */
  async kill(id: string): Promise<void> {
    await this.process(id).kill();
  }

  async pause(id: string): Promise<void> {
    const p = this.process(id);
    if (p.state === 'running') await p.pause();
  }

  async resume(id: string): Promise<void> {
    const p = this.process(id);
    if (p.state === 'paused') await p.resume();
  }

  /**
   * Ends the node's current process (kill -9 when `how` is 'kill') and starts it again, with
   * `env` added to its environment (failpoints) or as its normal self when `env` is undefined.
   */
  async restart(id: string, how: 'kill' | 'stop', env?: Readonly<Record<string, string>>): Promise<void> {
    const old = this.process(id);
    if (old.alive) {
      if (how === 'kill') await old.kill();
      else await old.stop();
    }
    const next =
      env === undefined ? this.supervisor.get(id) : this.supervisor.add(this.spec(this.node(id), env, `${id}~${++this.variants}`));
    this.current.set(id, next);
    await next.start();
  }

  /** Starts the node's normal program if its current process is not alive (a crash, a kill). */
  async ensureRunning(id: string): Promise<void> {
    const p = this.process(id);
    if (p.state === 'paused') await p.resume();
    if (p.alive && p === this.supervisor.get(id)) return;
    await this.restart(id, 'kill');
  }

  /** Heals every link, resumes paused nodes, restarts dead or failpoint-armed ones as normal nodes. */
  async healAll(): Promise<void> {
    this.proxies.heal();
    for (const id of this.ids) await this.ensureRunning(id);
  }

  /**
   * The peer address other nodes are told for `id` when it is added to the configuration (what a
   * conf-change entry carries). A node dials the address its own --peers flag names for a peer and
   * this one only where it has none: the nodes started before `id` joined, since a node's flags are
   * fixed when it starts. So each node gets one shared proxy "any-><id>" for them, started on
   * first use; nodes started after `id` reach it through their own "<self>-><id>" proxies.
   */
  async peerAddressForOthers(id: string): Promise<string> {
    const name = `${anySide}->${id}`;
    // A port reserved like every other (ports.ts), not the kernel's pick: that could be one reserved
    // for a node that has not bound it yet.
    if (!this.proxies.has(name))
      await this.proxies.add(name, this.node(id).peerListen.port, { listenPort: (await reserveFreePorts(1))[0]! });
    return formatHostPort({ host: this.node(id).peerListen.host, port: this.proxies.get(name).port });
  }

  /**
   * Starts a new node at run time, with a new id (one above every id used so far) and an empty data
   * dir, which asks the running nodes to add it (kvapp-node --join through their client proxies)
   * and, unless `asLearner`, to promote it once it caught up. New proxies for its links: "<new>->j"
   * to each running node (named in its --peers), "client-><new>", and "any-><new>" for the nodes
   * started before it (peerAddressForOthers), announced with --advertise-peer. Returns its id.
   *
   * A reserved port can still be taken by another socket before the node binds it (ports.ts); a
   * node that exits at once (EADDRINUSE) never reached the cluster (it binds before it joins), so
   * it is retired and another one, with a new id and new ports, started instead (3 tries).
   */
  async addNode(options: { readonly asLearner?: boolean } = {}): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const id = await this.startJoiningNode(options);
      if (await this.listening(id, addNodeListenMsMax)) return id;
      this.active = this.active.filter((x) => x !== id);
      const exit = this.process(id).lastExit;
      if (attempt >= 3)
        throw new Error(`node ${id} (try ${attempt}) exited before it listened: ${JSON.stringify(exit)}; see ${this.node(id).logFile}`);
    }
  }

  /** True once the node answers on its http port (bound after its peer and client ports); false if its process exited first. */
  private async listening(id: string, msMax: number): Promise<boolean> {
    const deadline = performance.now() + msMax;
    while (performance.now() < deadline) {
      if (!this.process(id).alive) return false;
      if ((await this.health(id)) !== null) return true;
      await sleep(50);
    }
    return this.process(id).alive;
  }

  private async startJoiningNode(options: { readonly asLearner?: boolean }): Promise<string> {
    assert.ok(!this.closed, 'the cluster is closed');
    const id = String(++this.idMax);
    const others = [...this.active];
    const [peer, client, http, clientProxy, anyProxy, ...linkPorts] = await reserveFreePorts(5 + others.length);
    const host = this.layout.nodes[0]!.peerListen.host;
    const at = (port: number): HostPort => ({ host, port });
    const peers: Record<string, HostPort> = {};
    others.forEach((j, i) => (peers[j] = at(linkPorts[i]!)));
    const clientAddresses: Record<string, HostPort> = {};
    for (const j of others) clientAddresses[j] = this.node(j).clientAddresses[j]!;
    clientAddresses[id] = at(clientProxy!);
    const base = {
      id,
      dataDir: join(this.options.runDir, 'data', id),
      logFile: join(this.options.runDir, 'logs', `${id}.log`),
      peerListen: at(peer!),
      clientListen: at(client!),
      httpListen: at(http!),
      peers,
      clientAddresses,
      clusterSecretFile: this.layout.nodes[0]!.clusterSecretFile,
    };
    const plan: NodePlan = { ...base, args: nodeArgs(base, [...others, id]) };
    this.added.set(id, plan);
    for (const j of others) await this.proxies.add(`${id}->${j}`, this.node(j).peerListen.port, { listenPort: peers[j]!.port });
    await this.proxies.add(`${clientSide}->${id}`, client!, { listenPort: clientProxy! });
    await this.proxies.add(`${anySide}->${id}`, peer!, { listenPort: anyProxy! });
    const advertisePeer = await this.peerAddressForOthers(id);
    mkdirSync(plan.dataDir, { recursive: true });
    const joinArgs = [
      '--join',
      others.map((j) => this.clientEndpoint(j)).join(','),
      '--advertise-peer',
      advertisePeer,
      '--advertise-client',
      formatHostPort(clientAddresses[id]),
      ...(options.asLearner ? ['--join-as-learner'] : []),
    ];
    const p = this.supervisor.add(this.spec({ ...plan, args: [...plan.args, ...joinArgs] }, {}, id));
    this.current.set(id, p);
    this.active = [...this.active, id].sort((a, b) => Number(a) - Number(b));
    await p.start();
    return id;
  }

  /**
   * The harness stops keeping `id` running: it leaves ids, the heal, health and the client
   * endpoints. Its process is stopped (SIGTERM) unless `keepRunning`.
   */
  async retire(id: string, options: { readonly keepRunning?: boolean } = {}): Promise<void> {
    assert.ok(this.active.includes(id), `no node ${id} to retire`);
    this.active = this.active.filter((x) => x !== id);
    if (!options.keepRunning) await this.process(id).stop();
  }

  /** Stops every node (SIGTERM, SIGKILL after `deadlineMs`) and closes every proxy. Idempotent. */
  async close(deadlineMs = 2000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.supervisor.stopAll(deadlineMs);
    } catch {
      await this.supervisor.killAll();
    } finally {
      await this.proxies.close();
    }
  }

  /**
   * Node id → pid of its live process, retired nodes still running included (the RSS sampler reads
   * each node's memory by it). At most one process per node is alive (its normal or armed program).
   */
  nodePids(): Map<string, number> {
    const pids = new Map<string, number>();
    for (const [id, p] of this.current) if (p.alive && p.pid !== undefined) pids.set(id, p.pid);
    return pids;
  }

  /** Pids of node processes alive now. */
  pids(): number[] {
    return this.supervisor
      .all()
      .filter((p) => p.alive && p.pid !== undefined)
      .map((p) => p.pid!);
  }

  private spec(node: Pick<NodePlan, 'id' | 'dataDir' | 'args' | 'logFile'>, env: Readonly<Record<string, string>>, name: string) {
    const own = this.options.nodeEnvFor?.({ id: node.id, dataDir: node.dataDir, runDir: this.options.runDir });
    return {
      name,
      file: process.execPath,
      args: [this.cliPath, ...node.args, ...(this.options.nodeArgs ?? [])],
      // NODE_OPTIONS is emptied so a node never inherits a test runner's loader.
      env: { NODE_OPTIONS: '', ...this.options.nodeEnv, ...own, ...env },
      logFile: node.logFile,
    };
  }
}

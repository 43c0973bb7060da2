import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../node/node-support.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface ProcessNode {
  readonly id: number;
  readonly dataDir: string;
  readonly peerPort: number;
  readonly clientPort: number;
  process: ChildProcess | null;
  output: string;
}

/**
 * Real kvapp-node processes on 127.0.0.1 for end-to-end tests. Every process is killed at
 * teardown, whatever the test did.
 */
export class ProcessCluster {
  readonly nodes: ProcessNode[] = [];
  private root = '';

  static async start(size: number, extraArgs: (id: number) => string[] = () => [], env: NodeJS.ProcessEnv = {}): Promise<ProcessCluster> {
    const cluster = new ProcessCluster();
    cluster.root = await mkdtemp(join(tmpdir(), 'kvapp-e2e-'));
    for (let id = 1; id <= size; id++) {
      cluster.nodes.push({
        id,
        dataDir: join(cluster.root, `n${id}`),
        peerPort: await freePort(),
        clientPort: await freePort(),
        process: null,
        output: '',
      });
    }
    for (const node of cluster.nodes) cluster.launch(node, extraArgs(node.id), env);
    return cluster;
  }

  get endpoints(): string[] {
    return this.nodes.map((n) => `127.0.0.1:${n.clientPort}`);
  }

  args(node: ProcessNode, extra: string[] = []): string[] {
    const peers = this.nodes
      .filter((n) => n.id !== node.id)
      .map((n) => `${n.id}=127.0.0.1:${n.peerPort}`)
      .join(',');
    const clientAddresses = this.nodes.map((n) => `${n.id}=127.0.0.1:${n.clientPort}`).join(',');
    return [
      CLI,
      '--id',
      String(node.id),
      '--data-dir',
      node.dataDir,
      '--peer-listen',
      `127.0.0.1:${node.peerPort}`,
      '--client-listen',
      `127.0.0.1:${node.clientPort}`,
      '--peers',
      peers,
      '--client-addresses',
      clientAddresses,
      '--cluster-secret',
      'e2e-cluster-secret',
      '--tick-ms',
      '10',
      '--election-ms',
      '200',
      '--heartbeat-ms',
      '30',
      '--log-level',
      'warn',
      ...extra,
    ];
  }

  launch(node: ProcessNode, extra: string[] = [], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const child = spawn(process.execPath, this.args(node, extra), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '', ...env },
    });
    node.process = child;
    const capture = (chunk: Buffer) => {
      node.output = (node.output + chunk.toString()).slice(-20_000);
    };
    child.stdout!.on('data', capture);
    child.stderr!.on('data', capture);
    child.once('exit', () => {
      if (node.process === child) node.process = null;
    });
    return child;
  }

  /** kill -9 and wait until the process is gone. */
  async kill(node: ProcessNode): Promise<void> {
    const child = node.process;
    if (!child) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  async terminate(node: ProcessNode): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = node.process;
    if (!child) throw new Error(`node ${node.id} is not running`);
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    return { code, signal };
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.kill(n)));
    await rm(this.root, { recursive: true, force: true });
  }
}

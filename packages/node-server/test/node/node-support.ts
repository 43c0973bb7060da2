import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { NodeConfigInput } from '../../src/config/node-config.js';

/** The built package entry, for child processes (they run plain node, without the test's TS loader). */
export const DIST_INDEX = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Holds `port` on 127.0.0.1 until the test ends, so that a node cannot bind it. */
export async function occupy(t: { teardown(fn: () => unknown): unknown }, port: number): Promise<Server> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return server;
}

/** True when `port` can be bound again (nothing left listening on it). */
export async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (bound) await new Promise<void>((resolve) => server.close(() => resolve()));
  return bound;
}

/** Polls `check` every 50 ms, at most `attempts` times; the bound only turns a hang into a failure. */
export async function waitFor(what: string, check: () => boolean, attempts = 300): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: not within ${attempts} polls`);
}

/** A fast-ticking node config on 127.0.0.1 with free ports. */
export function nodeInput(id: number, dataDir: string, extra: Partial<NodeConfigInput> = {}): NodeConfigInput {
  return {
    id,
    dataDir,
    clusterSecret: 'node-test-secret',
    peerListen: '127.0.0.1:0',
    clientListen: '127.0.0.1:0',
    tickMs: 10,
    electionMs: 200,
    heartbeatMs: 30,
    ...extra,
  };
}

/** A child process running `source` (an ES module) with plain node; killed at teardown. */
export function spawnModule(t: { teardown(fn: () => unknown): unknown }, source: string): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return Object.assign(child, { output: () => output });
}

// The server processes of a cluster under test: started with their output kept (the last few
// kB, printed if one dies early), stopped by SIGTERM then SIGKILL, each by its own pid.
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const OUTPUT_KEPT_CHARS = 10_000;
const STOP_GRACE_MS = 5_000;

/** A server process whose unexpected exit is reported on stderr (and fails the bench's exit code). */
export function startServer(label, command, args) {
  const server = { label, child: null, output: '', stopping: false };
  server.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  const keep = (chunk) => (server.output = (server.output + chunk.toString()).slice(-OUTPUT_KEPT_CHARS));
  server.child.stdout.on('data', keep);
  server.child.stderr.on('data', keep);
  server.child.once('exit', (code, signal) => {
    if (!server.stopping) {
      console.error(`${label} exited (${code ?? signal}) while the bench ran:\n${server.output}`);
      process.exitCode = 1;
    }
    server.child = null;
  });
  server.child.once('error', (error) => {
    console.error(`${label} could not start: ${error.message}`);
    process.exitCode = 1;
  });
  return server;
}

export async function stopServers(servers) {
  await Promise.all(
    servers.map(async (server) => {
      server.stopping = true;
      const child = server.child;
      if (child === null || child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }),
  );
}

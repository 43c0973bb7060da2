// Ports for the clusters' listeners on 127.0.0.1, chosen by the kernel. All are held open
// together before any is released, so the same run never gets one port twice.
import { once } from 'node:events';
import { createServer } from 'node:net';

export const HOST = '127.0.0.1';

export async function freePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      server.listen(0, HOST);
      await once(server, 'listening');
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(() => resolve()))));
  }
}

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NodeMetrics } from './metrics.js';

export interface HealthReport {
  /** True only when the node knows a leader and has applied up to the commit index it knows. */
  readonly healthy: boolean;
  readonly [detail: string]: unknown;
}

/** `/metrics` (Prometheus text) and `/health` (200 healthy, 503 not). Nothing else. */
export async function startHttpServer(options: {
  readonly host: string;
  readonly port: number;
  readonly metrics: NodeMetrics;
  readonly health: () => HealthReport;
}): Promise<{ server: Server; address: AddressInfo; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === '/metrics') {
      options.metrics.text().then(
        (body) => response.writeHead(200, { 'content-type': options.metrics.contentType }).end(body),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
      return;
    }
    if (path === '/health') {
      const report = options.health();
      response.writeHead(report.healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(report));
      return;
    }
    response.writeHead(404).end();
  });
  server.headersTimeout = 5_000;
  server.requestTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { server, address: server.address() as AddressInfo, close };
}

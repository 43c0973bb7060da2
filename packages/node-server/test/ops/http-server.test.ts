import t from 'tap';
import { NodeMetrics } from '../../src/ops/metrics.js';
import { startHttpServer } from '../../src/ops/http-server.js';

t.test('/metrics serves Prometheus text and /health follows the health report', async (t) => {
  const metrics = new NodeMetrics({ processMetrics: false });
  metrics.setRaftStatus({ term: 7, role: 'leader', commit: 42, applied: 41 });
  metrics.clientRequests.inc({ op: 'put', result: 'ok' });
  let healthy = false;
  const http = await startHttpServer({ host: '127.0.0.1', port: 0, metrics, health: () => ({ healthy, leader: 1 }) });
  t.teardown(http.close);
  const base = `http://127.0.0.1:${http.address.port}`;

  const text = await (await fetch(`${base}/metrics`)).text();
  t.match(text, /^kvapp_raft_term 7$/m);
  t.match(text, /^kvapp_raft_role\{role="leader"\} 1$/m);
  t.match(text, /^kvapp_raft_commit_index 42$/m);
  t.match(text, /^kvapp_client_requests_total\{op="put",result="ok"\} 1$/m);

  t.equal((await fetch(`${base}/health`)).status, 503);
  healthy = true;
  const response = await fetch(`${base}/health`);
  t.equal(response.status, 200);
  t.same(await response.json(), { healthy: true, leader: 1 });
  t.equal((await fetch(`${base}/nope`)).status, 404);
  t.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
});

// etcd's JSON gateway (grpc-gateway in front of the same KV service) over HTTP/1.1 keep-alive
// with undici: one connection per request in flight, no pipelining. Keys and values travel as
// base64 in JSON bodies; the encoding lives in the exported functions below so that it is
// tested without an etcd.
import { Pool } from 'undici';

export const name = 'etcd-http';

const b64 = (text) => Buffer.from(text, 'utf8').toString('base64');

/** The gateway request of a put: POST /v3/kv/put { key, value } (base64). */
export function putRequest(key, value) {
  return { path: '/v3/kv/put', body: JSON.stringify({ key: b64(key), value: b64(value) }) };
}

/**
 * The gateway request of a get: POST /v3/kv/range { key, serializable }. serializable false is a
 * linearizable read (etcd's ReadIndex); true is served from the member's own state.
 */
export function rangeRequest(key, serializable) {
  return { path: '/v3/kv/range', body: JSON.stringify(serializable ? { key: b64(key), serializable: true } : { key: b64(key) }) };
}

/** The value of a range answer (null: absent). The gateway omits empty fields, `kvs` included. */
export function rangeValue(answer) {
  const kv = answer.kvs?.[0];
  return kv === undefined ? null : Buffer.from(kv.value ?? '', 'base64').toString('utf8');
}

/** The leader's client URL among `endpoints`, asked of each member's /v3/maintenance/status; null if none says so. */
export async function findLeader(endpoints) {
  for (const endpoint of endpoints) {
    try {
      const res = await fetch(`${endpoint}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(2000) });
      const status = await res.json();
      if (status.leader !== undefined && status.leader === status.header?.member_id) return endpoint;
    } catch {
      // Not up yet, or no leader: the next member may know.
    }
  }
  return null;
}

/** @param {{ target: string, slots: number }} options target: the leader's client URL. */
export async function open({ target, slots }) {
  const pool = new Pool(target, { connections: Math.max(1, slots), pipelining: 1, keepAliveTimeout: 60_000 });
  const call = async ({ path, body }) => {
    const res = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    return JSON.parse(text);
  };
  return {
    async put(_slot, key, value) {
      await call(putRequest(key, value));
    },
    async get(_slot, key, serializable) {
      rangeValue(await call(rangeRequest(key, serializable)));
    },
    close() {
      return pool.close();
    },
  };
}

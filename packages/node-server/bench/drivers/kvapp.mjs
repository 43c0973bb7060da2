// kvapp's own client for the load: one KvClient per request in flight. A KvClient runs one write
// at a time (a session allows one command in flight), so N puts in flight need N clients; each
// finds the leader by itself. They share one KvConnectionPool: one WebSocket per node per load
// process carries all their requests, as etcd's client multiplexes its requests over one
// connection.
import { KvClient, KvConnectionPool } from '@kvapp/client';

export const name = 'kvapp';

/**
 * @param {{ endpoints: string[], slots: number }} options endpoints as 'host:port' (every
 *   node's client port); slots: requests this process keeps in flight.
 */
export async function open({ endpoints, slots }) {
  const pool = new KvConnectionPool();
  const clients = Array.from({ length: slots }, () => new KvClient({ endpoints, opDeadlineMs: 10_000, pool }));
  const check = (outcome, what) => {
    if (outcome.status !== 'ok')
      throw new Error(
        `${what}: ${outcome.status === 'fail' ? `${outcome.error.code} (${outcome.error.message})` : `indeterminate (${outcome.reason})`}`,
      );
  };
  return {
    async put(slot, key, value) {
      check(await clients[slot].put(key, value), 'put');
    },
    async get(slot, key, serializable) {
      check(await clients[slot].get(key, { read: serializable ? 'serializable' : 'linearizable' }), 'get');
    },
    close() {
      for (const client of clients) client.close();
      pool.close();
    },
  };
}

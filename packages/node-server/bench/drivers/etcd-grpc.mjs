// etcd's own client: the `etcd3` package (gRPC over HTTP/2 through @grpc/grpc-js). All of a
// load process's requests share one channel to the leader, multiplexed as etcd's clients do.
import { Etcd3 } from 'etcd3';

export const name = 'etcd-grpc';

/** @param {{ target: string }} options target: the leader's client URL (http://127.0.0.1:port). */
export async function open({ target }) {
  const client = new Etcd3({ hosts: [target] });
  return {
    async put(_slot, key, value) {
      await client.put(key).value(value).exec();
    },
    async get(_slot, key, serializable) {
      await client.get(key).serializable(serializable).exec();
    },
    close() {
      client.close();
    },
  };
}
